//! The domain of a Windows session: the DNS domain of a domain-joined account
//! (`USERDNSDOMAIN`), else the NetBIOS domain Windows names in `USERDOMAIN`, which on a
//! machine in a workgroup is the computer's own name, and is then reported as no domain.

pub fn domain(host_name: &str) -> Option<String> {
    let var = |name| {
        std::env::var(name)
            .ok()
            .filter(|v: &String| !v.trim().is_empty())
    };
    var("USERDNSDOMAIN")
        .or_else(|| var("USERDOMAIN").filter(|d| !d.eq_ignore_ascii_case(host_name)))
}
