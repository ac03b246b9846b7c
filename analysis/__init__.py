"""Analysis: Parquet (or the JSON results document) in, pandas out."""
