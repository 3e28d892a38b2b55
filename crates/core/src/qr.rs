//! Renders a payment link as a QR code: PNG for the screen, SVG for print.
//!
//! Nayuki's reference encoder (qrcodegen) builds the symbol with a fixed mask; this module
//! then picks the mask itself. An encoder's own search scores all eight masks module by
//! module, which was three quarters of the time from link to PNG. Here each row and each
//! column is one `u128`, so applying a mask is a few XORs and the penalty rules are shifts
//! and bit counts. The rules and the tie-break are qrcodegen's, so the choice is too: a test
//! compares the two, module for module.

use crate::AppError;
use qrcodegen::{Mask, QrCode, QrCodeEcc, QrSegment, Version};

const QUIET: usize = 4;

/// A finished symbol: bit `x` of `rows[y]` is the module at (x, y), set when dark; or, wider
/// than 127 modules, qrcodegen's own.
struct Symbol {
    size: usize,
    rows: Vec<u128>,
    wide: Option<QrCode>,
}

impl Symbol {
    fn dark(&self, x: usize, y: usize) -> bool {
        match &self.wide {
            Some(code) => code.get_module(x as i32, y as i32),
            None => self.rows[y] >> x & 1 == 1,
        }
    }
}

/// The link's modules, at medium error correction or higher where it fits in the same size:
/// survives glare on a screen while keeping modules large.
fn code(link: &str) -> Result<Symbol, AppError> {
    let encode = |mask| {
        QrCode::encode_segments_advanced(
            &QrSegment::make_segments(link),
            QrCodeEcc::Medium,
            Version::MIN,
            Version::MAX,
            mask,
            true,
        )
        .map_err(|e| AppError::Internal { message: format!("cannot encode the link as a QR code: {e}") })
    };
    let fixed = encode(Some(Mask::new(0)))?;
    if fixed.size() as usize > 127 {
        // Wider than a u128 row (over ~1,000 characters): qrcodegen's own search.
        let code = encode(None)?;
        return Ok(Symbol { size: code.size() as usize, rows: Vec::new(), wide: Some(code) });
    }
    Ok(choose_mask(&fixed))
}

/// A symbol drawn with mask 0, the mask taken off its data modules again, as rows and as
/// columns; `data` marks the modules a mask applies to. The function modules are symmetric
/// about the diagonal, so `data` serves rows and columns alike.
struct Plain {
    rows: Vec<u128>,
    cols: Vec<u128>,
    data: Vec<u128>,
}

fn plain(fixed: &QrCode) -> Plain {
    let size = fixed.size() as usize;
    let data = data_modules(size, fixed.version().value());
    let (mut rows, mut cols) = (vec![0u128; size], vec![0u128; size]);
    for (y, row) in rows.iter_mut().enumerate() {
        for (x, col) in cols.iter_mut().enumerate() {
            let dark = u128::from(fixed.get_module(x as i32, y as i32));
            *row |= dark << x;
            *col |= dark << y;
        }
    }
    for i in 0..size {
        rows[i] ^= MASK_ROWS[0][i % 12] & data[i];
        cols[i] ^= MASK_COLS[0][i % 12] & data[i];
    }
    Plain { rows, cols, data }
}

/// Takes a symbol drawn with mask 0 and returns it with the mask of least penalty.
fn choose_mask(fixed: &QrCode) -> Symbol {
    let size = fixed.size() as usize;
    let plain = plain(fixed);
    let ecl = match fixed.error_correction_level() {
        QrCodeEcc::Low => 1,
        QrCodeEcc::Medium => 0,
        QrCodeEcc::Quartile => 3,
        QrCodeEcc::High => 2,
    };
    let mut rows = vec![0u128; size];
    let mut cols = vec![0u128; size];
    let mut best = (i32::MAX, 0);
    for mask in 0..8 {
        masked(&plain, mask, ecl, &mut rows, &mut cols);
        let penalty = penalty(&rows, &cols);
        if penalty < best.0 {
            best = (penalty, mask);
        }
    }
    masked(&plain, best.1, ecl, &mut rows, &mut cols);
    Symbol { size, rows, wide: None }
}

/// `plain` with `mask` applied to its data modules and the format bits that name it.
fn masked(plain: &Plain, mask: usize, ecl: u32, rows: &mut [u128], cols: &mut [u128]) {
    let size = plain.rows.len();
    for i in 0..size {
        rows[i] = plain.rows[i] ^ (MASK_ROWS[mask][i % 12] & plain.data[i]);
        cols[i] = plain.cols[i] ^ (MASK_COLS[mask][i % 12] & plain.data[i]);
    }
    let format = format_bits(ecl, mask as u32);
    let mut set = |x: usize, y: usize, bit: u32| {
        let dark = (format >> bit & 1) as u128;
        rows[y] = rows[y] & !(1 << x) | dark << x;
        cols[x] = cols[x] & !(1 << y) | dark << y;
    };
    // Where qrcodegen's draw_format_bits puts each bit, both copies.
    for i in 0..6 {
        set(8, i, i as u32);
    }
    set(8, 7, 6);
    set(8, 8, 7);
    set(7, 8, 8);
    for i in 9..15 {
        set(14 - i, 8, i as u32);
    }
    for i in 0..8 {
        set(size - 1 - i, 8, i as u32);
    }
    for i in 8..15 {
        set(8, size - 15 + i, i as u32);
    }
}

/// The 15 format bits for an error-correction level and mask, with their BCH code.
fn format_bits(ecl: u32, mask: u32) -> u32 {
    let data = ecl << 3 | mask;
    let mut rem = data;
    for _ in 0..10 {
        rem = (rem << 1) ^ ((rem >> 9) * 0x537);
    }
    (data << 10 | rem) ^ 0x5412
}

/// Rows of the modules a mask applies to: all but finders, separators, format and version
/// information, timing and alignment patterns.
fn data_modules(size: usize, version: u8) -> Vec<u128> {
    let mut function = vec![0u128; size];
    let mut mark = |x0: usize, y0: usize, w: usize, h: usize| {
        for row in &mut function[y0..y0 + h] {
            *row |= ((1u128 << w) - 1) << x0;
        }
    };
    mark(0, 0, 9, 9);
    mark(size - 8, 0, 8, 9);
    mark(0, size - 8, 9, 8);
    mark(6, 0, 1, size);
    mark(0, 6, size, 1);
    if version >= 7 {
        mark(size - 11, 0, 3, 6);
        mark(0, size - 11, 6, 3);
    }
    if version > 1 {
        let count = version as usize / 7 + 2;
        let step = if version == 32 { 26 } else { (version as usize * 4 + count * 2 + 1) / (count * 2 - 2) * 2 };
        let mut centres: Vec<usize> = (0..count - 1).map(|i| size - 7 - i * step).collect();
        centres.push(6);
        centres.reverse();
        let last = count - 1;
        for (i, &x) in centres.iter().enumerate() {
            for (j, &y) in centres.iter().enumerate() {
                let on_a_finder = i == 0 && (j == 0 || j == last) || i == last && j == 0;
                if !on_a_finder {
                    mark(x - 2, y - 2, 5, 5);
                }
            }
        }
    }
    function.iter().map(|f| !f & ((1u128 << size) - 1)).collect()
}

/// The eight mask patterns (ISO/IEC 18004 table 10) as rows: `[mask][y % 12]`, bit x. Every
/// pattern repeats every 12 rows.
const MASK_ROWS: [[u128; 12]; 8] = mask_table(false);
/// The same as columns: `[mask][x % 12]`, bit y.
const MASK_COLS: [[u128; 12]; 8] = mask_table(true);

const fn mask_table(columns: bool) -> [[u128; 12]; 8] {
    let mut table = [[0u128; 12]; 8];
    let mut mask = 0;
    while mask < 8 {
        let mut line = 0;
        while line < 12 {
            let mut along = 0;
            while along < 128 {
                let (x, y) = if columns { (line, along) } else { (along, line) };
                let invert = match mask {
                    0 => (x + y) % 2 == 0,
                    1 => y % 2 == 0,
                    2 => x % 3 == 0,
                    3 => (x + y) % 3 == 0,
                    4 => (x / 3 + y / 2) % 2 == 0,
                    5 => x * y % 2 + x * y % 3 == 0,
                    6 => (x * y % 2 + x * y % 3) % 2 == 0,
                    _ => ((x + y) % 2 + x * y % 3) % 2 == 0,
                };
                if invert {
                    table[mask][line] |= 1 << along;
                }
                along += 1;
            }
            line += 1;
        }
        mask += 1;
    }
    table
}

const PENALTY_N1: i32 = 3;
const PENALTY_N2: i32 = 3;
const PENALTY_N3: i32 = 40;
const PENALTY_N4: i32 = 10;

/// qrcodegen's penalty score of a symbol, from its rows and columns.
fn penalty(rows: &[u128], cols: &[u128]) -> i32 {
    let size = rows.len();
    let mut score: i32 = rows.iter().chain(cols).map(|&line| line_penalty(line, size as u32)).sum();
    // 2×2 blocks of one colour.
    let left = (1u128 << (size - 1)) - 1;
    for pair in rows.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let same_below = !(a ^ b);
        let blocks = same_below & (same_below >> 1) & !(a ^ (a >> 1)) & left;
        score += blocks.count_ones() as i32 * PENALTY_N2;
    }
    // Balance of dark and light.
    let dark: i32 = rows.iter().map(|row| row.count_ones() as i32).sum();
    let total = (size * size) as i32;
    let k = ((dark * 20 - total * 10).abs() + total - 1) / total - 1;
    score + k * PENALTY_N4
}

/// The body of [`line_penalty`] for a line held in `$bits`.
macro_rules! bitwise_line_penalty {
    ($bits:ty, $line:expr, $wide:expr, $size:expr) => {{
        let (line, size): ($bits, u32) = ($line, $size);
        let dark_at = |offset: i32| if offset >= 0 { line >> offset } else { line << -offset };
        let all_dark = |from: i32, count: i32| (from..from + count).fold(!0, |acc, o| acc & dark_at(o));
        // Past either end reads as light: `<<` and `>>` bring in zeros, inverted here.
        let all_light = |from: i32, count: i32| (from..from + count).fold(!0, |acc, o| acc & !dark_at(o));
        let dark3 = line & (line >> 1) & (line >> 2);
        let dark6 = dark3 & (dark3 >> 3);
        if dark6 & (dark3 >> 6) != 0 {
            return line_penalty_by_runs($wide, size);
        }
        let inside: $bits = (1 << size) - 1;
        let agree = !(line ^ (line >> 1)) & (inside >> 1);
        let five = agree & (agree >> 1) & (agree >> 2) & (agree >> 3);
        let runs_of_five = five & !(five << 1);
        let mut score = (five.count_ones() + 2 * runs_of_five.count_ones()) as i32;
        let finder_like = |n: i32| {
            let core = all_light(-1, 1)
                & all_dark(0, n)
                & all_light(n, n)
                & all_dark(2 * n, 3 * n)
                & all_light(5 * n, n)
                & all_dark(6 * n, n)
                & all_light(7 * n, 1);
            // Four units of light on one side, at least one on the other.
            let light_before = core & all_light(-4 * n, 4 * n) & all_light(7 * n, n);
            let light_after = core & all_light(7 * n, 4 * n) & all_light(-n, n);
            (light_before.count_ones() + light_after.count_ones()) as i32 * PENALTY_N3
        };
        score += finder_like(1);
        // At two a unit, the middle is six dark.
        if dark6 != 0 {
            score += finder_like(2);
        }
        score
    }};
}

/// Rules N1 (runs of five or more) and N3 (finder look-alikes, light on one side for four
/// modules, the edge counting as light) over one line, as qrcodegen counts them.
///
/// Bit-parallel: N1 from where five modules in a row agree; N3 from where the pattern
/// 1:1:3:1:1 sits at one or two modules a unit. A look-alike at three or more a unit needs a
/// dark run of nine or more; a line with one is scored run by run.
fn line_penalty(line: u128, size: u32) -> i32 {
    // Most links fit in 63 modules, where u64 shifts are single instructions.
    if size < 64 {
        bitwise_line_penalty!(u64, line as u64, line, size)
    } else {
        bitwise_line_penalty!(u128, line, line, size)
    }
}

/// [`line_penalty`] run by run, the way qrcodegen scans.
fn line_penalty_by_runs(line: u128, size: u32) -> i32 {
    let mut score = 0;
    let mut history = RunHistory::new(size);
    let mut ends = (line ^ (line >> 1)) & ((1u128 << (size - 1)) - 1);
    let mut dark = line & 1 == 1;
    if dark {
        // A light run of length zero before the first dark module.
        history.add(0);
    }
    let mut start = 0;
    while ends != 0 {
        let end = ends.trailing_zeros() + 1;
        let length = (end - start) as i32;
        score += run_penalty(length);
        history.add(length);
        if !dark {
            score += history.finder_like() * PENALTY_N3;
        }
        dark = !dark;
        start = end;
        ends &= ends - 1;
    }
    let length = (size - start) as i32;
    score + run_penalty(length) + history.finish(dark, length) * PENALTY_N3
}

fn run_penalty(length: i32) -> i32 {
    if length >= 5 {
        PENALTY_N1 + length - 5
    } else {
        0
    }
}

/// The last seven run lengths of a line (qrcodegen's `FinderPenalty`, which shifts them
/// along an array; a ring of eight is written in place, which keeps the scan fast).
struct RunHistory {
    size: i32,
    runs: [i32; 8],
    /// Runs added so far, plus 8 so that looking back never goes below zero.
    added: usize,
}

impl RunHistory {
    fn new(size: u32) -> Self {
        RunHistory { size: size as i32, runs: [0; 8], added: 8 }
    }

    /// The run `back` places before the newest.
    fn run(&self, back: usize) -> i32 {
        self.runs[(self.added - 1 - back) & 7]
    }

    fn add(&mut self, mut length: i32) {
        if self.run(0) == 0 {
            length += self.size; // the light edge before the line
        }
        self.runs[self.added & 7] = length;
        self.added += 1;
    }

    /// Called just after a light run is added: 0, 1 or 2 look-alikes end here.
    fn finder_like(&self) -> i32 {
        let n = self.run(1);
        let core = n > 0 && self.run(2) == n && self.run(3) == n * 3 && self.run(4) == n && self.run(5) == n;
        let (newest, oldest) = (self.run(0), self.run(6));
        i32::from(core && newest >= n * 4 && oldest >= n) + i32::from(core && oldest >= n * 4 && newest >= n)
    }

    fn finish(mut self, dark: bool, mut length: i32) -> i32 {
        if dark {
            self.add(length);
            length = 0;
        }
        self.add(length + self.size); // the light edge after the line
        self.finder_like()
    }
}

/// A PNG at least `min_px` wide, black on white, with the standard 4-module quiet zone,
/// each module a whole number of pixels. `min_px` 0: one pixel per module, for a screen that
/// scales it crisply (`image-rendering: pixelated`) — a fraction of the pixels to encode.
pub fn png(link: &str, min_px: u32) -> Result<Vec<u8>, AppError> {
    let code = code(link)?;
    let modules = code.size + 2 * QUIET;
    let scale = (min_px as usize).div_ceil(modules).max(1);
    let side = modules * scale;
    // One bit a pixel, eight to a byte, first pixel in the high bit: 1 is white.
    let stride = side.div_ceil(8);
    let mut pixels = vec![0xFFu8; stride * side];
    for y in 0..code.size {
        let top = (y + QUIET) * scale;
        let line = &mut pixels[top * stride..(top + 1) * stride];
        for x in (0..code.size).filter(|&x| code.dark(x, y)) {
            for px in (x + QUIET) * scale..(x + QUIET + 1) * scale {
                line[px / 8] &= !(0x80 >> (px % 8));
            }
        }
        for dy in 1..scale {
            pixels.copy_within(top * stride..(top + 1) * stride, (top + dy) * stride);
        }
    }
    let failed = |e: png::EncodingError| AppError::Internal { message: format!("PNG encoding failed: {e}") };
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side as u32, side as u32);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    // Two colours compress to little whatever the effort: the fastest setting.
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::NoFilter);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&pixels).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

/// The same code as SVG for print, with the standard quiet zone: a unit square per dark
/// module; 256 px unless the page sizes it (the print page's CSS does).
pub fn svg(link: &str) -> Result<String, AppError> {
    use std::fmt::Write;
    let code = code(link)?;
    let side = code.size + 2 * QUIET;
    let mut out = format!(
        r##"<svg width="256" height="256" shape-rendering="crispEdges" viewBox="0 0 {side} {side}" xmlns="http://www.w3.org/2000/svg"><rect width="{side}" height="{side}" fill="#FFFFFF"/><path d=""##
    );
    for y in 0..code.size {
        for x in (0..code.size).filter(|&x| code.dark(x, y)) {
            let _ = write!(out, "M{},{}h1v1h-1", x + QUIET, y + QUIET);
        }
    }
    out.push_str(r##"" fill="#000000"/></svg>"##);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use qrcodegen::{Mask, QrCode, QrCodeEcc, QrSegment, Version};

    /// What a phone scanning it reads: exactly the link, at screen and print sizes.
    fn scanned(png: &[u8]) -> String {
        let img = image::load_from_memory(png).unwrap().to_luma8();
        // A decoder wants a few pixels per module, as a camera sees the screen.
        let img =
            image::imageops::resize(&img, img.width() * 4, img.height() * 4, image::imageops::FilterType::Nearest);
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    /// The rows of a symbol at most 127 modules wide.
    fn read(code: &QrCode) -> Vec<u128> {
        let size = code.size();
        let row = |y| (0..size).filter(|&x| code.get_module(x, y)).fold(0u128, |row, x| row | 1 << x);
        (0..size).map(row).collect()
    }

    fn reference(link: &str, mask: Option<Mask>) -> QrCode {
        let segments = QrSegment::make_segments(link);
        QrCode::encode_segments_advanced(&segments, QrCodeEcc::Medium, Version::MIN, Version::MAX, mask, true).unwrap()
    }

    /// A repeatable pseudo-random sequence (xorshift64) for generated inputs.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    /// Links of every length up to 1,600 characters (past version 27, the widest u128 rows),
    /// in each of qrcodegen's segment modes.
    fn links() -> Vec<String> {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let mut links = vec![String::from("0"), "HTTPS://PAY.EXAMPLE/Q/42".into()];
        for length in (1..400).chain((400..1600).step_by(37)) {
            let alphabet: &[u8] = match length % 3 {
                0 => b"0123456789",
                1 => b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 $%*+-./:",
                _ => b"abcdefghijklmnopqrstuvwxyz0123456789:/?=&.-_%",
            };
            links.push((0..length).map(|_| alphabet[next() as usize % alphabet.len()] as char).collect());
        }
        links
    }

    /// The mask chosen on bit rows is the one qrcodegen's own search chooses, module for
    /// module, and each mask drawn on bit rows is the one qrcodegen draws.
    #[test]
    fn the_symbol_is_qrcodegens_own_choice() {
        let mut wide = 0;
        for link in links() {
            let (ours, theirs) = (super::code(&link).unwrap(), reference(&link, None));
            assert_eq!(ours.size, theirs.size() as usize);
            let same = (0..ours.size)
                .all(|y| (0..ours.size).all(|x| ours.dark(x, y) == theirs.get_module(x as i32, y as i32)));
            assert!(same, "link of {} characters", link.len());
            wide += usize::from(ours.wide.is_some());
        }
        assert!(wide > 0, "some links take the wide path");
        let link = "http://127.0.0.1:35789/cashier/312345678901234567";
        let plain = super::plain(&reference(link, Some(Mask::new(0))));
        let size = plain.rows.len();
        for mask in 0..8 {
            let (mut rows, mut cols) = (vec![0; size], vec![0; size]);
            super::masked(&plain, mask, 0, &mut rows, &mut cols);
            assert_eq!(rows, read(&reference(link, Some(Mask::new(mask as u8)))), "mask {mask}");
            let transposed: Vec<u128> =
                (0..size).map(|x| (0..size).fold(0, |col, y| col | (rows[y] >> x & 1) << y)).collect();
            assert_eq!(cols, transposed, "mask {mask}: the columns are the rows'");
        }
    }

    /// The bit-parallel line score is the run-by-run one, on lines of every width and
    /// density, and on look-alikes one, two and three modules a unit.
    #[test]
    fn the_bitwise_line_score_is_the_run_by_run_one() {
        let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
        let mut lines = Vec::new();
        for size in (21..=127).step_by(2) {
            for density in 0..6 {
                for _ in 0..200 {
                    let mut line = 0u128;
                    for x in 0..size {
                        let dark = match density {
                            0 => next() % 2 == 0,
                            1 => next() % 8 == 0,
                            2 => next() % 8 != 0,
                            _ => (x / density) % 2 == 0 || next() % 16 == 0,
                        };
                        line |= u128::from(dark) << x;
                    }
                    lines.push((line, size));
                }
            }
            for unit in 1..=3 {
                for at in [0, 1, 4 * unit, size - 7 * unit] {
                    let pattern =
                        [1, 0, 1, 1, 1, 0, 1].iter().fold(0u128, |acc, &b| (0..unit).fold(acc, |acc, _| acc << 1 | b));
                    let pattern = pattern.reverse_bits() >> (128 - 7 * unit);
                    lines.push(((pattern << at) & ((1 << size) - 1), size));
                }
            }
        }
        let mut finder_like = 0;
        for (line, size) in lines {
            let ours = super::line_penalty(line, size);
            assert_eq!(ours, super::line_penalty_by_runs(line, size), "{line:#b} of {size}");
            finder_like += usize::from(ours >= super::PENALTY_N3);
        }
        assert!(finder_like > 100, "look-alikes tested: {finder_like}");
    }

    #[test]
    fn the_codes_read_back_as_the_link() {
        for link in ["http://127.0.0.1:35789/cashier/312345678901234567", "weixin://wxpay/bizpayurl?pr=AbCdEfG"] {
            assert_eq!(scanned(&super::png(link, 0).unwrap()), link);
            assert_eq!(scanned(&super::png(link, 480).unwrap()), link);
        }
    }

    /// The print SVG drawn as its path says (a unit square per dark module, inside the
    /// viewBox) scans back as the link too.
    #[test]
    fn the_print_svg_reads_back_as_the_link() {
        let link = "http://127.0.0.1:35789/cashier/312345678901234567";
        let svg = super::svg(link).unwrap();
        let side: u32 = svg.split(r#"viewBox="0 0 "#).nth(1).unwrap().split(' ').next().unwrap().parse().unwrap();
        let mut img = image::GrayImage::from_pixel(side, side, image::Luma([255]));
        let path = svg.split(r#"<path d=""#).nth(1).unwrap().split('"').next().unwrap();
        for square in path.split('M').filter(|m| !m.is_empty()) {
            let corner = square.strip_suffix("h1v1h-1").expect("unit squares");
            let (x, y) = corner.split_once(',').unwrap();
            img.put_pixel(x.parse().unwrap(), y.parse().unwrap(), image::Luma([0]));
        }
        let mut png = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        assert_eq!(scanned(&png), link);
        assert!(svg.starts_with(r#"<svg width="256" height="256""#));
    }

    #[test]
    fn renders_png_and_svg() {
        let png = super::png("http://127.0.0.1:1/cashier/312345678901234567", 320).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let img = image::load_from_memory(&png).unwrap();
        assert!(img.width() >= 320);
        assert!(super::svg("http://x/").unwrap().contains("<svg"));
        let screen =
            image::load_from_memory(&super::png("http://127.0.0.1:1/cashier/312345678901234567", 0).unwrap()).unwrap();
        assert!(screen.width() < 60, "one pixel per module: {}", screen.width());
    }
}
