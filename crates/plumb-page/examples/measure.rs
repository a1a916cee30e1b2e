//! Load a URL with plumb-page and print the result as JSON: `cargo run -p plumb-page --example
//! measure -- URL [RUNS] [none|mobile|desktop]` (for trying the engine without the CLI).

use std::sync::atomic::AtomicBool;

fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().expect("a URL");
    let mut settings = plumb_page::PageSettings::new(&url);
    settings.runs = args.next().map_or(1, |r| r.parse().expect("a run count"));
    settings.throttle = match args.next().as_deref() {
        Some("mobile") => plumb_page::Throttle::mobile(),
        Some("desktop") => plumb_page::Throttle::desktop(),
        _ => plumb_page::Throttle::none(),
    };
    match plumb_page::run(&settings, "", &AtomicBool::new(false), &mut |_, _| {}) {
        Ok(result) => println!("{}", serde_json::to_string_pretty(&result).expect("JSON")),
        Err(e) => eprintln!("error: {e}"),
    }
}
