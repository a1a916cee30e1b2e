//! Number formatting shared by every renderer: milliseconds, counts, bytes, rates.

/// Milliseconds with precision that suits the magnitude: `0.052`, `1.95`, `12.3`, `1,234`.
pub fn ms(value: f64) -> String {
    if value >= 1000.0 {
        count(value.round() as u64)
    } else if value >= 100.0 {
        format!("{value:.1}")
    } else if value >= 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

/// A count with thousands separators: `1,234,567`.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate with one decimal and separators: `24,691.2`.
pub fn rate(value: f64) -> String {
    let whole = value.trunc() as u64;
    let tenth = ((value - value.trunc()) * 10.0).round() as u64;
    if tenth >= 10 {
        format!("{}.0", count(whole + 1))
    } else {
        format!("{}.{}", count(whole), tenth)
    }
}

/// Bytes in binary units: `512 B`, `1.5 KiB`, `20.0 MiB`.
pub fn bytes(value: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut scaled = value as f64;
    let mut unit = 0;
    while scaled >= 1024.0 && unit < UNITS.len() - 1 {
        scaled /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{value} B")
    } else {
        format!("{scaled:.1} {}", UNITS[unit])
    }
}

/// A plain value with three significant digits, for observed threshold values: `1.94`, `6.00e-5`.
pub fn significant(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return format!("{value}");
    }
    let magnitude = value.abs().log10().floor() as i32;
    if !(-3..6).contains(&magnitude) {
        return format!("{value:.2e}");
    }
    let decimals = (2 - magnitude).max(0) as usize;
    format!("{value:.decimals$}")
}

/// A fraction as a percentage: `0.12%`.
pub fn percent(fraction: f64) -> String {
    format!("{:.2}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(ms(0.0523), "0.052");
        assert_eq!(ms(12.345), "12.35");
        assert_eq!(ms(123.45), "123.5");
        assert_eq!(ms(12345.0), "12,345");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(count(999), "999");
        assert_eq!(rate(24691.25), "24,691.3");
        assert_eq!(rate(9.96), "10.0");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(percent(0.0012), "0.12%");
        assert_eq!(significant(1.94), "1.94");
        assert_eq!(significant(1234.6), "1235");
        assert_eq!(significant(0.0123), "0.0123");
        assert_eq!(significant(0.00006), "6.00e-5");
    }
}
