//! Renders a payment link as a QR code: PNG for the screen, SVG for print.

use crate::AppError;
use image::{ImageFormat, Luma};
use qrcode::{EcLevel, QrCode};
use std::io::Cursor;

fn code(link: &str) -> Result<QrCode, AppError> {
    // Medium error correction: survives glare on a screen while keeping modules large.
    QrCode::with_error_correction_level(link.as_bytes(), EcLevel::M)
        .map_err(|e| AppError::Internal { message: format!("cannot encode the link as a QR code: {e}") })
}

/// A PNG at least `min_px` wide, black on white, with the standard 4-module quiet zone.
/// `min_px` 0: one pixel per module, for a screen that scales it crisply
/// (`image-rendering: pixelated`) — a fraction of the pixels to draw and encode.
pub fn png(link: &str, min_px: u32) -> Result<Vec<u8>, AppError> {
    let code = code(link)?;
    let mut renderer = code.render::<Luma<u8>>();
    renderer.quiet_zone(true);
    if min_px == 0 {
        renderer.module_dimensions(1, 1);
    } else {
        renderer.min_dimensions(min_px, min_px);
    }
    let img = renderer.build();
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|e| AppError::Internal { message: format!("PNG encoding failed: {e}") })?;
    Ok(out.into_inner())
}

pub fn svg(link: &str) -> Result<String, AppError> {
    Ok(code(link)?.render::<qrcode::render::svg::Color<'_>>().quiet_zone(true).min_dimensions(256, 256).build())
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_png_and_svg() {
        let png = super::png("http://127.0.0.1:1/cashier/312345678901234567", 320).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        let img = image::load_from_memory(&png).unwrap();
        assert!(img.width() >= 320);
        assert!(super::svg("http://x/").unwrap().contains("<svg"));
        let screen = image::load_from_memory(&super::png("http://127.0.0.1:1/cashier/312345678901234567", 0).unwrap()).unwrap();
        assert!(screen.width() < 60, "one pixel per module: {}", screen.width());
    }
}
