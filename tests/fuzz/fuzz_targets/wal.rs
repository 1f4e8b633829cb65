#![no_main]
//! Fuzzes the write-ahead log reader the receiver replays after a crash: whatever the
//! bytes, it returns the whole records before the first bad one, and says where.

use libfuzzer_sys::fuzz_target;
use pipescope::receive::wal::parse_records;

fuzz_target!(|data: &[u8]| {
    let (records, cut) = parse_records(data);
    let read: usize = records.iter().map(|r| r.payload.len()).sum();
    assert!(
        read <= data.len(),
        "records hold more bytes than the segment"
    );
    if cut.is_none() {
        // Without a cut the records account for every byte (9 header bytes each).
        assert_eq!(read + 9 * records.len(), data.len());
    }
});
