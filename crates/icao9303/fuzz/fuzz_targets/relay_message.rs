#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| icao9303_fuzz::relay_message(data));
