//! The Machine Readable Zone (ICAO 9303 Parts 3–7): TD1, TD2, TD3, MRV-A/B.
