use std::io::{Read, Write};
use std::net::TcpListener;

use icao9303::protocol::apdu::CommandApdu;
use virtual_chip::{ATR, Profile, vpcd};

use crate::helpers::*;

/// Plays vpcd's side of the socket: ATR, power on, one APDU, then closes.
#[test]
fn serves_the_vpcd_protocol() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let vpcd_side = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut exchange = |payload: &[u8], answer: bool| -> Vec<u8> {
            let mut frame = (payload.len() as u16).to_be_bytes().to_vec();
            frame.extend_from_slice(payload);
            s.write_all(&frame).unwrap();
            if !answer {
                return Vec::new();
            }
            let mut len = [0u8; 2];
            s.read_exact(&mut len).unwrap();
            let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
            s.read_exact(&mut body).unwrap();
            body
        };
        let atr = exchange(&[4], true);
        exchange(&[1], false);
        let select = exchange(&CommandApdu::select_emrtd_application().to_bytes(), true);
        let read = exchange(&CommandApdu::read_binary(0, 4).unwrap().to_bytes(), true);
        (atr, select, read)
    });
    let mut chip = chip(Profile::Bac);
    let summary = vpcd::connect_and_serve(&addr, &mut chip, false).unwrap();
    let (atr, select, read) = vpcd_side.join().unwrap();
    assert_eq!(atr, ATR);
    assert_eq!(select, [0x90, 0x00]);
    assert_eq!(read, [0x69, 0x86]); // no file selected
    assert_eq!((summary.apdus, summary.resets), (2, 1));
}
