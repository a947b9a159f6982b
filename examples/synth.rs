//! Prints the synthetic benchmark program (`deployc::synth`) of N services
//! and M environments: `cargo run --release --example synth -- 1000 4 > synth.dpl`.
//! `benches/rebuild.sh` uses it.

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let services = args.next().and_then(Result::ok).unwrap_or(1000);
    let envs = args.next().and_then(Result::ok).unwrap_or(4);
    print!("{}", deployc::synth::program(services, envs));
}
