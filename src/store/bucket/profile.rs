//! The AWS shared files, as the AWS CLI reads them: `~/.aws/credentials` (or
//! `AWS_SHARED_CREDENTIALS_FILE`) and `~/.aws/config` (or `AWS_CONFIG_FILE`), profile
//! `AWS_PROFILE` (else `default`). They supply what the environment does not: a
//! variable set in the environment wins, as in every AWS tool.

use std::path::PathBuf;

use ini::Ini;

use super::BucketError;

/// What a profile says; `None` where it says nothing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Profile {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub region: Option<String>,
    pub endpoint_url: Option<String>,
}

/// The profile of the environment's `AWS_PROFILE` (else `default`). Missing files
/// are no error; a profile named by `AWS_PROFILE` that neither file has is.
pub fn load() -> Result<Profile, BucketError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let path = |var: &str, name: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".aws").join(name)))
    };
    let read = |path: Option<PathBuf>| -> Result<Option<(PathBuf, String)>, BucketError> {
        let Some(path) = path else { return Ok(None) };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some((path, text))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BucketError::local(path, e)),
        }
    };
    let credentials = read(path("AWS_SHARED_CREDENTIALS_FILE", "credentials"))?;
    let config = read(path("AWS_CONFIG_FILE", "config"))?;
    let named = std::env::var("AWS_PROFILE").ok().filter(|p| !p.is_empty());
    let name = named.clone().unwrap_or_else(|| "default".into());
    let (profile, found) = from_files(&name, credentials.as_ref(), config.as_ref())?;
    if named.is_some() && !found {
        return Err(BucketError::Url {
            url: format!("AWS_PROFILE={name}"),
            message: "no such profile in ~/.aws/credentials or ~/.aws/config".into(),
        });
    }
    Ok(profile)
}

/// Profile `name` from the files' texts; also whether either file has it.
fn from_files(
    name: &str,
    credentials: Option<&(PathBuf, String)>,
    config: Option<&(PathBuf, String)>,
) -> Result<(Profile, bool), BucketError> {
    let parse = |file: Option<&(PathBuf, String)>| -> Result<Option<Ini>, BucketError> {
        file.map(|(path, text)| {
            Ini::load_from_str(text).map_err(|e| BucketError::Url {
                url: path.display().to_string(),
                message: format!("not an AWS config file: {e}"),
            })
        })
        .transpose()
    };
    let credentials = parse(credentials)?;
    let config = parse(config)?;
    // The credentials file names sections by the profile; the config file by
    // `profile NAME`, except `default`.
    let in_config = if name == "default" {
        "default".to_string()
    } else {
        format!("profile {name}")
    };
    let sections = [
        credentials.as_ref().and_then(|c| c.section(Some(name))),
        config
            .as_ref()
            .and_then(|c| c.section(Some(in_config.as_str()))),
    ];
    let get = |key: &str| {
        sections
            .iter()
            .flatten()
            .find_map(|s| s.get(key))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let profile = Profile {
        access_key_id: get("aws_access_key_id"),
        secret_access_key: get("aws_secret_access_key"),
        session_token: get("aws_session_token"),
        region: get("region"),
        endpoint_url: get("endpoint_url"),
    };
    Ok((profile, sections.iter().any(Option::is_some)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (PathBuf, String) {
        (PathBuf::from("/home/ci/.aws/x"), text.to_string())
    }

    #[test]
    fn a_profile_takes_its_keys_from_credentials_and_its_region_from_config() {
        let credentials = file(
            "[default]\naws_access_key_id = AKDEFAULT\naws_secret_access_key = s0\n\n[ci]\naws_access_key_id = AKCI\naws_secret_access_key = s1\naws_session_token = tok\n",
        );
        let config = file(
            "[default]\nregion = us-east-1\n\n[profile ci]\nregion = eu-west-1\nendpoint_url = http://minio:9000\n",
        );
        let (ci, found) = from_files("ci", Some(&credentials), Some(&config)).unwrap();
        assert!(found);
        assert_eq!(
            ci,
            Profile {
                access_key_id: Some("AKCI".into()),
                secret_access_key: Some("s1".into()),
                session_token: Some("tok".into()),
                region: Some("eu-west-1".into()),
                endpoint_url: Some("http://minio:9000".into()),
            }
        );
        let (default, _) = from_files("default", Some(&credentials), Some(&config)).unwrap();
        assert_eq!(default.access_key_id.as_deref(), Some("AKDEFAULT"));
        assert_eq!(default.region.as_deref(), Some("us-east-1"));
        assert_eq!(default.session_token, None);
    }

    #[test]
    fn a_missing_profile_is_not_found_and_a_broken_file_is_named() {
        let (none, found) = from_files("nope", Some(&file("[default]\nregion=x\n")), None).unwrap();
        assert!(!found);
        assert_eq!(none, Profile::default());
        let broken = from_files("ci", Some(&file("[unclosed\nkey")), None).unwrap_err();
        assert!(
            broken
                .to_string()
                .starts_with("/home/ci/.aws/x: not an AWS config file"),
            "{broken}"
        );
    }
}
