#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    vpcsim_fuzz::simulate(data);
});
