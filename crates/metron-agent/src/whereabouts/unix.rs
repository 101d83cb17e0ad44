//! The domain of a Unix host: the DNS domain of its name when the name is fully qualified
//! (`ann-laptop.corp.example.com`), else the NIS domain the kernel keeps, if one is set. A
//! host joined to Active Directory through sssd has a fully qualified name, so this finds
//! its realm too.

pub fn domain(host_name: &str) -> Option<String> {
    if let Some((_, dns)) = host_name.split_once('.') {
        if !dns.is_empty() {
            return Some(dns.to_string());
        }
    }
    let nis = std::fs::read_to_string("/proc/sys/kernel/domainname").ok()?;
    let nis = nis.trim();
    (!nis.is_empty() && nis != "(none)").then(|| nis.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_fully_qualified_name_gives_its_dns_domain() {
        assert_eq!(
            super::domain("ann-laptop.corp.example.com").as_deref(),
            Some("corp.example.com")
        );
    }
}
