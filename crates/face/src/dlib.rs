//! Reader for dlib's serialisation format (`dlib/serialize.h`, `dlib/dnn`), just enough of it to load
//! `dlib_face_recognition_resnet_model_v1.dat`: the network's layers are written input first, each
//! introduced by its type name as a string; we pick out the layers that carry parameters.
//!
//! Encodings (dlib 19.x):
//! - integer: one header byte (low nibble = number of value bytes, bit 7 = negative), then the
//!   magnitude little endian;
//! - string: its length as an integer, then the bytes;
//! - float / double outside tensors: mantissa and exponent as two integers, value = m * 2^e;
//! - tensor: version 2, num_samples, k, nr, nc as integers, then the values as raw little-endian f32.

use crate::ModelError;

pub(crate) struct DlibReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> DlibReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    fn error(&self, what: &'static str) -> ModelError {
        ModelError::Format {
            offset: self.pos,
            what,
        }
    }

    fn byte(&mut self) -> Result<u8, ModelError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or_else(|| self.error("unexpected end of model"))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn int(&mut self) -> Result<i64, ModelError> {
        let header = self.byte()?;
        let len = usize::from(header & 0x0f);
        if len > 8 {
            return Err(self.error("integer longer than 8 bytes"));
        }
        let mut magnitude: u64 = 0;
        for i in 0..len {
            magnitude |= u64::from(self.byte()?) << (8 * i);
        }
        let magnitude = i64::try_from(magnitude).map_err(|_| self.error("integer out of range"))?;
        Ok(if header & 0x80 != 0 {
            -magnitude
        } else {
            magnitude
        })
    }

    pub(crate) fn usize(&mut self) -> Result<usize, ModelError> {
        let v = self.int()?;
        usize::try_from(v).map_err(|_| self.error("negative size"))
    }

    /// A float written outside a tensor (mantissa, exponent).
    pub(crate) fn float(&mut self) -> Result<f64, ModelError> {
        let mantissa = self.int()?;
        let exponent = self.int()?;
        let exponent =
            i32::try_from(exponent).map_err(|_| self.error("float exponent out of range"))?;
        Ok(mantissa as f64 * 2f64.powi(exponent))
    }

    /// A tensor's values, with its shape flattened (the shapes come from the layer's own fields).
    pub(crate) fn tensor(&mut self) -> Result<Vec<f32>, ModelError> {
        if self.int()? != 2 {
            return Err(self.error("unsupported tensor version"));
        }
        let mut count: usize = 1;
        for _ in 0..4 {
            count = count
                .checked_mul(self.usize()?)
                .ok_or_else(|| self.error("tensor too large"))?;
        }
        let len = count
            .checked_mul(4)
            .ok_or_else(|| self.error("tensor too large"))?;
        let end = self
            .pos
            .checked_add(len)
            .ok_or_else(|| self.error("tensor too large"))?;
        let raw = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| self.error("tensor runs past the end of the model"))?;
        self.pos = end;
        Ok(raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4])))
            .collect())
    }

    /// Moves just past the next serialised string equal to `name` (length integer + bytes).
    /// Only used between layers, where the bytes are small integers and names, never tensor data.
    pub(crate) fn skip_to_name(&mut self, name: &'static str) -> Result<(), ModelError> {
        let mut needle = Vec::with_capacity(name.len() + 2);
        needle.push(1u8);
        needle.push(u8::try_from(name.len()).map_err(|_| self.error("layer name too long"))?);
        needle.extend_from_slice(name.as_bytes());
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        match rest
            .windows(needle.len())
            .position(|w| w == needle.as_slice())
        {
            Some(at) => {
                self.pos += at + needle.len();
                Ok(())
            }
            None => Err(ModelError::MissingLayer { name }),
        }
    }

    /// Whether `name` occurs again as a serialised string after the current position.
    pub(crate) fn has_name_ahead(&self, name: &str) -> bool {
        let rest = self.bytes.get(self.pos..).unwrap_or_default();
        rest.windows(name.len()).any(|w| w == name.as_bytes())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_length_prefixed_little_endian_with_a_sign_bit() {
        // Bytes seen in the model: 4736 filter values, and the exponent -17 of a mean pixel value.
        let mut r = DlibReader::new(&[0x02, 0x80, 0x12, 0x81, 0x11, 0x00]);
        assert_eq!(r.int().unwrap(), 4736);
        assert_eq!(r.int().unwrap(), -17);
        assert_eq!(r.int().unwrap(), 0);
        assert!(r.int().is_err());
    }

    #[test]
    fn floats_are_mantissa_times_a_power_of_two() {
        // input_rgb_image_sized's mean red value: 0xf59062 * 2^-17 = 122.782...
        let mut r = DlibReader::new(&[0x03, 0x62, 0x90, 0xf5, 0x81, 0x11]);
        let v = r.float().unwrap();
        assert!((v - 122.782).abs() < 1e-3, "{v}");
    }
}
