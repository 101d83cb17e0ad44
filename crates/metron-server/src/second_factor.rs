//! Two-factor codes for password accounts (issue 29), without HTTP or storage: TOTP as
//! authenticator apps expect it (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, a 160-bit random
//! secret), the enrolment's `otpauth://` URI and its QR code drawn as SVG, which step a code
//! belongs to (±1 step around the server's clock, so replays can be refused by step), the ten
//! one-time recovery codes and their hashes, and whom an organization requires to have codes.

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Seconds per TOTP step.
pub const STEP_SECS: i64 = 30;
/// Steps either side of the current one whose code is still accepted (clock drift, typing).
pub const SKEW_STEPS: i64 = 1;
/// How long a begun enrolment waits for its confirming code.
pub const ENROLMENT_SECS: i64 = 600;
/// Recovery codes handed out at once.
pub const RECOVERY_CODES: usize = 10;
/// The longest second factor read from a client (a code or a recovery code, with spaces).
pub const MAX_SECOND_FACTOR_BYTES: usize = 64;
/// The issuer authenticator apps show beside the account.
pub const ISSUER: &str = "Metron";

/// Who in an organization must have two-factor codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Nobody (each person may still turn them on).
    #[default]
    Off,
    /// People with the admin role.
    Admins,
    Everyone,
}

impl Requirement {
    pub fn as_str(self) -> &'static str {
        match self {
            Requirement::Off => "off",
            Requirement::Admins => "admins",
            Requirement::Everyone => "everyone",
        }
    }

    /// The stored text; anything unknown reads as the strictest.
    pub fn from_stored(text: &str) -> Self {
        match text {
            "off" => Requirement::Off,
            "admins" => Requirement::Admins,
            _ => Requirement::Everyone,
        }
    }

    /// Whether a person (an admin or not) must have codes.
    pub fn covers(self, admin: bool) -> bool {
        match self {
            Requirement::Off => false,
            Requirement::Admins => admin,
            Requirement::Everyone => true,
        }
    }
}

/// A new random TOTP secret (160 bits, RFC 4226's recommended length), base32 as stored and
/// as shown for typing into an app.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    Secret::new(Box::new(bytes)).to_base32()
}

/// The TOTP of a stored secret; `None` if it is not a secret this server made.
fn totp(secret: &str, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(u16::try_from(SKEW_STEPS).unwrap_or(1))
        .with_step_duration(STEP_SECS as u64)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        // The otpauth label may not hold ':' (it separates issuer and account).
        .with_account_name(account.replace(':', ""))
        .build()
        .ok()
}

/// The `otpauth://totp/Metron:email?secret=...&issuer=Metron` URI an app reads from the QR code.
pub fn otpauth_uri(secret: &str, email: &str) -> Option<String> {
    totp(secret, email)?.to_url().ok()
}

/// The QR code of `text` as a standalone SVG document (dark modules on white, with the quiet
/// zone scanners need), for the page to show as an image.
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    )
}

/// The code of `secret` at time step `step` (what the app shows during that step).
pub fn code_at_step(secret: &str, step: i64) -> Option<String> {
    let time = u64::try_from(step.checked_mul(STEP_SECS)?).ok()?;
    Some(totp(secret, "")?.generate(time).to_string())
}

/// Whether `input` has the shape of a TOTP code (6 digits, spaces allowed) rather than a
/// recovery code.
pub fn looks_like_code(input: &str) -> Option<String> {
    let digits: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The step among `now`'s ±[`SKEW_STEPS`] whose code `code` is, latest first; `None` if none.
/// Each candidate is compared in constant time.
pub fn matching_step(secret: &str, code: &str, now: i64) -> Option<i64> {
    let current = now.div_euclid(STEP_SECS);
    let mut found = None;
    for step in (current - SKEW_STEPS..=current + SKEW_STEPS).rev() {
        let expected = code_at_step(secret, step)?;
        if constant_time_eq(expected.as_bytes(), code.as_bytes()) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The symbols recovery codes are made of: Crockford's base32 (digits and lowercase letters
/// without i, l, o and u), 5 bits each; typed look-alikes are read as it reads them.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Ten new recovery codes, `xxxx-xxxx-xxxx-xxxx` (16 symbols, 80 random bits each).
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut bytes = [0u8; 16];
            rng.fill_bytes(&mut bytes);
            let symbols: Vec<char> = bytes
                .iter()
                .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)]))
                .collect();
            symbols
                .chunks(4)
                .map(|c| c.iter().collect::<String>())
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect()
}

/// A recovery code as typed, without dashes, spaces or case.
pub fn normalize_recovery(input: &str) -> String {
    input
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| match c.to_ascii_lowercase() {
            'o' => '0',
            'i' | 'l' => '1',
            c => c,
        })
        .collect()
}

/// What is stored of a recovery code: SHA-256 of the person's id and the normalized code
/// (80 random bits: a fast hash is enough; the id keeps equal codes of two people apart).
pub fn recovery_hash(user_id: &str, code: &str) -> String {
    let digest = Sha256::digest(format!("{user_id}\n{}", normalize_recovery(code)).as_bytes());
    hex::encode(digest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_only_within_one_step_and_say_which() {
        let secret = new_secret();
        assert_eq!(
            Secret::try_from_base32(&secret).unwrap().as_bytes().len(),
            20
        );
        let now = 1_800_000_015;
        let step = now / STEP_SECS;
        for (offset, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = code_at_step(&secret, step + offset).unwrap();
            assert_eq!(code.len(), 6);
            let found = matching_step(&secret, &code, now);
            if accepted {
                // Another step's code may collide one in a million; the matching one is latest.
                assert!(found >= Some(step + offset), "offset {offset}: {found:?}");
            } else {
                assert!(
                    found.is_none() || code_at_step(&secret, found.unwrap()) == Some(code),
                    "offset {offset}"
                );
            }
        }
        assert_eq!(matching_step(&secret, "12345", now), None);
    }

    #[test]
    fn the_rfc_6238_sha1_vector_holds() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s, 8 digits 94287082.
        let secret = Secret::new(Box::new(*b"12345678901234567890")).to_base32();
        assert_eq!(code_at_step(&secret, 59 / STEP_SECS).unwrap(), "287082");
    }

    #[test]
    fn the_uri_and_qr_name_metron_and_the_person() {
        let secret = new_secret();
        let uri = otpauth_uri(&secret, "ann@example.com").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Metron:ann%40example.com?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={secret}")) && uri.contains("issuer=Metron"));
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg") && svg.contains("#000000"));
        assert!(!svg.contains("<script"));
    }

    #[test]
    fn recovery_codes_are_random_and_hashed_per_person() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert_eq!(code.len(), 19);
        assert_eq!(
            recovery_hash("u1", code),
            recovery_hash("u1", &code.to_uppercase().replace('-', " "))
        );
        assert_ne!(recovery_hash("u1", code), recovery_hash("u2", code));
        assert_eq!(looks_like_code("123 456").as_deref(), Some("123456"));
        assert_eq!(looks_like_code(code), None);
    }

    #[test]
    fn the_requirement_covers_whom_it_names() {
        assert!(!Requirement::Off.covers(true));
        assert!(Requirement::Admins.covers(true) && !Requirement::Admins.covers(false));
        assert!(Requirement::Everyone.covers(false));
        assert_eq!(Requirement::from_stored("nonsense"), Requirement::Everyone);
    }
}
