//! The Parquet store: `<data>/spans/date=YYYY-MM-DD/<unique>.parquet`.

pub mod schema;
