fn main() {
    std::process::exit(ringmaster::run());
}
