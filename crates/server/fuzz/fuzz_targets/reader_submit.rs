#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| passport_reader_server_fuzz::reader_submit(data));
