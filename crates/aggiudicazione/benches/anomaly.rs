//! `make bench`: the anomaly engine on large tenders (exact fractions cost more than
//! floats; this shows how much). Plain timing with `Instant`.

use std::time::Instant;

use aggiudicazione::anomaly::DiscountEntry;
use aggiudicazione::{evaluate_anomaly, AnomalyMethod, AnomalyRequest};
use rust_decimal::Decimal;

fn main() {
    for n in [16usize, 200, 2_000] {
        let discounts: Vec<DiscountEntry> = (0..n)
            .map(|i| {
                DiscountEntry::Plain(
                    Decimal::new(500 + ((i as i64 * 7919) % 3000), 2) + Decimal::new(i as i64 % 1000, 6),
                )
            })
            .collect();
        let request = AnomalyRequest::new(AnomalyMethod::A, discounts);
        let rounds = 50;
        let started = Instant::now();
        for _ in 0..rounds {
            evaluate_anomaly(&request).expect("evaluates");
        }
        let per = started.elapsed().as_secs_f64() * 1e3 / f64::from(rounds);
        println!("anomaly method A, {n} offers: {per:.2} ms per evaluation");
    }
}
