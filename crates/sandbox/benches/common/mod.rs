//! What the provider benchmarks share: their iteration count, the median, and the QR PNG
//! drawn from a payment link (as the counter draws it).

use std::time::Duration;

pub fn iterations() -> usize {
    std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(200)
}

/// The median of the samples, in milliseconds.
pub fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1e3
}

/// A 480 px QR PNG of `link`.
pub fn qr_png(link: &str) -> Vec<u8> {
    let code = qrcode::QrCode::new(link.as_bytes()).unwrap();
    let image = code.render::<image::Luma<u8>>().min_dimensions(480, 480).build();
    let mut png = Vec::new();
    image::DynamicImage::ImageLuma8(image)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}
