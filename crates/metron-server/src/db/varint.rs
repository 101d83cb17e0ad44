//! The varints the packed formats are written in (`packed.rs`'s intervals, `kept_line.rs`'s
//! kept timesheet lines): unsigned LEB128, and signed numbers zigzagged first so a small
//! negative offset stays one or two bytes. Reading never trusts a length: a corrupt or cut
//! body reads as `None`, not as a huge allocation or a panic.

pub(super) fn put(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

pub(super) fn put_signed(out: &mut Vec<u8>, n: i64) {
    put(out, ((n << 1) ^ (n >> 63)) as u64);
}

/// A string: its length in bytes, then the bytes.
pub(super) fn put_str(out: &mut Vec<u8>, s: &str) {
    put(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Bytes read front to back.
pub(super) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    /// Whether every byte was read: a longer body is unreadable, not misread.
    pub(super) fn at_end(&self) -> bool {
        self.at == self.bytes.len()
    }

    pub(super) fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    pub(super) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let out = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(out)
    }

    pub(super) fn get(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(n);
            }
        }
        None
    }

    pub(super) fn signed(&mut self) -> Option<i64> {
        let n = self.get()?;
        Some((n >> 1) as i64 ^ -((n & 1) as i64))
    }

    /// A string written by [`put_str`]; `None` if it isn't UTF-8.
    pub(super) fn string(&mut self) -> Option<String> {
        let n = self.len()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }

    /// A count of items that follow: never more than the bytes left (a corrupt length can't
    /// ask for a huge allocation).
    pub(super) fn len(&mut self) -> Option<usize> {
        usize::try_from(self.get()?)
            .ok()
            .filter(|n| *n <= self.bytes.len() - self.at)
    }
}
