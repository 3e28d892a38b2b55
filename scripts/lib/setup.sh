# Shared set-up for scripts/demo and scripts/test: system packages and tools.
# Installs with apt-get when run as root; otherwise prints the exact line to run.

# Build: Tauri 2 on Linux (WebKitGTK 4.1). Run/test: Xvfb, WebKitWebDriver, a Secret Service.
PAYDESK_BUILD_PACKAGES=(build-essential pkg-config curl file libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev
  libjavascriptcoregtk-4.1-dev librsvg2-dev libxdo-dev libssl-dev libdbus-1-dev)
# postgresql: the shared ledger's engine, run as a throwaway cluster by the tests.
# fonts-noto-cjk: without a CJK font every Traditional Chinese glyph is an empty box.
PAYDESK_TEST_PACKAGES=(xvfb xauth webkit2gtk-driver gnome-keyring dbus dbus-x11 postgresql fonts-noto-cjk)

# The debug build the tests run (paydesk, paydesk-app with tauri's mock runtime for
# src-tauri/tests/commands.rs). scripts/demo builds exactly this too, so a demo after the
# tests starts at once instead of compiling tauri again with other features.
PAYDESK_TEST_BUILD=(--workspace --exclude paydesk-empty-app --bins --features paydesk-app/mock-runtime)

missing_packages() {
  local missing=()
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  echo "${missing[@]:-}"
}

ensure_packages() {
  local missing
  missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  if ! command -v apt-get >/dev/null; then
    echo "paydesk: missing system packages ($missing) and no apt-get here; install their equivalents." >&2
    return 1
  fi
  if [ "$(id -u)" = 0 ]; then
    echo "paydesk: installing system packages: $missing" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >&2
  else
    echo "paydesk: these system packages are missing. Run, then try again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing" >&2
    return 1
  fi
}

ensure_rust() {
  if ! command -v cargo >/dev/null; then
    echo "paydesk: cargo is missing; install Rust from https://rustup.rs and try again." >&2
    return 1
  fi
}

# Tauri's bundler for scripts/package, pinned: the same version makes the same packages.
PAYDESK_TAURI_CLI_VERSION=2.12.4
ensure_tauri_cli() {
  if [ "$(cargo tauri --version 2>/dev/null)" != "tauri-cli $PAYDESK_TAURI_CLI_VERSION" ]; then
    echo "paydesk: installing tauri-cli $PAYDESK_TAURI_CLI_VERSION (cargo install, several minutes once)" >&2
    cargo install tauri-cli --version "=$PAYDESK_TAURI_CLI_VERSION" --locked >&2
  fi
}

# The test runner: its groups keep the tests that share one keyring apart (cargo test
# has none), so the suite runs only under nextest.
ensure_nextest() {
  if ! cargo nextest --version >/dev/null 2>&1; then
    echo "paydesk: installing cargo-nextest (cargo install)" >&2
    cargo install cargo-nextest --version 0.9.143 --locked >&2
  fi
}

ensure_tauri_driver() {
  local bin="${CARGO_HOME:-$HOME/.cargo}/bin"
  if ! command -v tauri-driver >/dev/null && [ ! -x "$bin/tauri-driver" ]; then
    echo "paydesk: installing tauri-driver (cargo install)" >&2
    cargo install tauri-driver --locked >&2
  fi
}
