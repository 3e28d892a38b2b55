//! Renders a payment link as a QR code: PNG for the screen, SVG for print.

use crate::AppError;
use fast_qr::convert::{svg::SvgBuilder, Builder};
use image::Luma;

/// The link's modules, at medium error correction: survives glare on a screen while
/// keeping modules large.
fn code(link: &str) -> Result<fast_qr::QRCode, AppError> {
    fast_qr::qr::QRBuilder::new(link.as_bytes())
        .ecl(fast_qr::ECL::M)
        .build()
        .map_err(|e| AppError::Internal { message: format!("cannot encode the link as a QR code: {e:?}") })
}

/// A PNG at least `min_px` wide, black on white, with the standard 4-module quiet zone,
/// each module a whole number of pixels. `min_px` 0: one pixel per module, for a screen that
/// scales it crisply (`image-rendering: pixelated`) — a fraction of the pixels to encode.
pub fn png(link: &str, min_px: u32) -> Result<Vec<u8>, AppError> {
    const QUIET: usize = 4;
    let code = code(link)?;
    let modules = code.size + 2 * QUIET;
    let scale = (min_px as usize).div_ceil(modules).max(1);
    let side = (modules * scale) as u32;
    let mut img = image::GrayImage::from_pixel(side, side, Luma([255]));
    for y in 0..code.size {
        for x in 0..code.size {
            if code[y][x].value() {
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = ((x + QUIET) * scale + dx, (y + QUIET) * scale + dy);
                        img.put_pixel(px as u32, py as u32, Luma([0]));
                    }
                }
            }
        }
    }
    // Two colours compress to little whatever the effort: the fastest setting.
    let mut out = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new_with_quality(
        &mut out,
        image::codecs::png::CompressionType::Fast,
        image::codecs::png::FilterType::NoFilter,
    );
    image::ImageEncoder::write_image(encoder, img.as_raw(), side, side, image::ExtendedColorType::L8)
        .map_err(|e| AppError::Internal { message: format!("PNG encoding failed: {e}") })?;
    Ok(out)
}

/// The same code as SVG for print, with the standard quiet zone; 256 px unless the page
/// sizes it (the print page's CSS does).
pub fn svg(link: &str) -> Result<String, AppError> {
    let svg = SvgBuilder::default().margin(4).to_str(&code(link)?);
    Ok(svg.replacen("<svg ", r#"<svg width="256" height="256" shape-rendering="crispEdges" "#, 1))
}

#[cfg(test)]
mod tests {
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
