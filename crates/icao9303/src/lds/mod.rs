//! The Logical Data Structure (ICAO 9303 Part 10): EF.COM, EF.SOD, the data groups, EF.CardAccess.
