//! The QR code of the holder's link, drawn as inline SVG on the server (no image, no script).

use qrcode::{Color, EcLevel, QrCode};

/// Quiet zone around the symbol, in modules (ISO/IEC 18004 asks for four).
const QUIET_ZONE: usize = 4;

/// An `<svg>` element (no XML prolog, fit for inline HTML) showing `text` as a QR code, or `None`
/// if `text` is too long for any QR version. `label` becomes the image's accessible name and is
/// escaped here.
pub fn svg(text: &str, label: &str) -> Option<String> {
    // Medium error correction: a screen is a clean surface, and a lower level keeps the
    // modules large for the long link (the token alone has 43 characters).
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let width = code.width();
    let colors = code.to_colors();
    let size = width + 2 * QUIET_ZONE;
    let mut path = String::new();
    for (y, row) in colors.chunks(width).enumerate() {
        // One horizontal run per stretch of dark modules keeps the path short.
        let mut x = 0;
        while x < width {
            if row.get(x) == Some(&Color::Dark) {
                let start = x;
                while row.get(x) == Some(&Color::Dark) {
                    x += 1;
                }
                path.push_str(&format!(
                    "M{} {}h{}v1h-{}z",
                    start + QUIET_ZONE,
                    y + QUIET_ZONE,
                    x - start,
                    x - start
                ));
            } else {
                x += 1;
            }
        }
    }
    let label = super::html::escape(label);
    Some(format!(
        "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         role=\"img\" aria-label=\"{label}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/>\
         <path fill=\"#000\" d=\"{path}\"/></svg>"
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn draws_an_svg_with_its_label_escaped() {
        let s = svg("https://id.example/open?token=abc", "QR <code>").unwrap();
        assert!(s.starts_with("<svg "));
        assert!(s.ends_with("</svg>"));
        assert!(s.contains("aria-label=\"QR &lt;code&gt;\""));
        assert!(!s.contains("<?xml"));
        // Version 3 (29 modules) for this length, plus the quiet zone on both sides.
        assert!(s.contains("viewBox=\"0 0 37 37\""), "{s}");
        // The top-left finder pattern starts with a run of seven dark modules.
        assert!(s.contains("M4 4h7v1h-7z"));
    }

    #[test]
    fn the_path_covers_exactly_the_dark_modules() {
        let text = "https://id.example/open?token=0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).unwrap();
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        let s = svg(text, "x").unwrap();
        let d = s.split(" d=\"").nth(1).unwrap().split('"').next().unwrap();
        let drawn: usize = d
            .split('M')
            .skip(1)
            .map(|run| {
                let h = run.split('h').nth(1).unwrap();
                h.split('v').next().unwrap().parse::<usize>().unwrap()
            })
            .sum();
        assert_eq!(drawn, dark);
    }

    #[test]
    fn refuses_text_beyond_the_largest_version() {
        assert!(svg(&"x".repeat(5000), "too long").is_none());
    }
}
