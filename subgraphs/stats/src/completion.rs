//! How complete a user's task list is: pure arithmetic over the counts, kept
//! apart from GraphQL so the rounding rule is tested on its own.

/// `completed / total * 100`, rounded to two decimals; 0.0 when there are no tasks.
///
/// Rounds like the original's Python `round(x, 2)`: on the exact decimal value of
/// the float, ties to even (0.125 → 0.12), which is what Rust's `{:.2}` does too;
/// `(x * 100.0).round() / 100.0` would round ties away from zero instead.
pub fn completed_percentage(completed: i32, total: i32) -> f64 {
    if total <= 0 {
        return 0.0;
    }
    let percentage = f64::from(completed) / f64::from(total) * 100.0;
    format!("{percentage:.2}").parse().unwrap_or(percentage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_tasks_is_zero_percent() {
        assert_eq!(completed_percentage(0, 0), 0.0);
    }

    #[test]
    fn rounds_to_two_decimals() {
        assert_eq!(completed_percentage(1, 3), 33.33);
        assert_eq!(completed_percentage(2, 3), 66.67);
        assert_eq!(completed_percentage(3, 10), 30.0);
        assert_eq!(completed_percentage(1, 8), 12.5);
        assert_eq!(completed_percentage(5, 5), 100.0);
    }

    #[test]
    fn ties_round_to_even_like_python() {
        // 1 of 800 is exactly 0.125 %: Python's round(0.125, 2) gives 0.12.
        assert_eq!(completed_percentage(1, 800), 0.12);
        assert_eq!(completed_percentage(3, 800), 0.38);
    }
}
