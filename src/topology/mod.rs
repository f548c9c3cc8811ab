//! The region topology that hopcheck prices database round trips against. It knows the coordinates of the
//! built-in AWS, GCP and Azure regions and the published median round-trip times between regions of the same
//! provider, and it estimates every other pair from the great-circle distance and a distance-dependent stretch
//! over the speed of light in fiber. User configuration can add custom regions and override any round-trip time.
//! This module does no I/O: both data files are embedded in the binary with `include_str!` and parsed once, lazily,
//! on first use. Malformed rows are skipped instead of causing a panic.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The embedded list of built-in regions, with columns `provider,region,location,lat,lon,coords_source`.
const REGIONS_CSV: &str = include_str!("regions.csv");

/// The embedded measured round-trip times, with columns `provider,from,to,rtt_ms_p50,source,measured_on`.
const RTT_MEASURED_CSV: &str = include_str!("rtt_measured.csv");

/// The mean Earth radius in kilometres that the haversine formula uses.
const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The speed of light in optical fiber in kilometres per second (c divided by a refractive index of 1.4682).
const FIBER_KM_PER_S: f64 = 204_190.0;

/// The cloud providers whose regions are built in, spelled as they are in the data files.
const BUILTIN_PROVIDERS: [&str; 3] = ["aws", "gcp", "azure"];

/// A named location that round trips can be priced between.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    /// The provider that owns the region, such as `aws`, `gcp`, `azure` or a user-chosen label.
    pub provider: String,
    /// The region name, such as `us-east-1`.
    pub name: String,
    /// A human-readable place, such as `Frankfurt, Germany`.
    pub location: String,
    /// The latitude in degrees.
    pub lat: f64,
    /// The longitude in degrees.
    pub lon: f64,
}

/// Where an RTT figure came from, shown to users next to the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RttSource {
    /// Both ends are in the same region, so the configured intra-region time applies.
    SameRegion,
    /// The user configured this figure explicitly.
    Configured,
    /// The figure is a published median measurement between two regions of one provider.
    Measured,
    /// The figure is estimated from the great-circle distance between the two regions.
    Estimated,
}

/// A round-trip time together with where it came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rtt {
    /// The round-trip time in milliseconds.
    pub ms: f64,
    /// Where the figure came from.
    pub source: RttSource,
    /// The speed-of-light floor, when both coordinates are known.
    pub floor_ms: Option<f64>,
}

/// The built-in regions and the measured round-trip times between them.
#[derive(Debug)]
pub struct RegionTable {
    /// The regions in file order.
    regions: Vec<Region>,
    /// An index into `regions`, keyed by the lowercase region name.
    by_name: HashMap<String, usize>,
    /// Measured round-trip times keyed by the ordered pair of lowercase names; each value is the mean of both
    /// directions, or the single direction that is present.
    measured: HashMap<(String, String), f64>,
}

impl RegionTable {
    /// Returns the table parsed from the embedded data, parsing it on the first call only.
    pub fn builtin() -> &'static RegionTable {
        static BUILTIN: OnceLock<RegionTable> = OnceLock::new();
        BUILTIN.get_or_init(|| RegionTable::parse(REGIONS_CSV, RTT_MEASURED_CSV))
    }

    /// Finds a built-in region by name. Accepts "us-east-1", and also "aws:us-east-1", "gcp:us-east1" or
    /// "azure:eastus" with a case-insensitive provider prefix, which must name the region's own provider. Region
    /// names are matched case-insensitively too, and unknown names give `None`.
    pub fn lookup(&self, name: &str) -> Option<&Region> {
        let name = name.trim();
        if let Some(&index) = self.by_name.get(&name.to_ascii_lowercase()) {
            return self.regions.get(index);
        }
        let (provider, rest) = name.split_once(':')?;
        let index = *self.by_name.get(&rest.trim().to_ascii_lowercase())?;
        let region = self.regions.get(index)?;
        region
            .provider
            .eq_ignore_ascii_case(provider.trim())
            .then_some(region)
    }

    /// Returns up to `n` known region names closest to `name`, best first, for "unknown region" errors. Similarity
    /// is the mean of the normalized Damerau-Levenshtein and Jaro-Winkler scores from `strsim`.
    ///
    /// Names that contain the input rank above all others, and regions whose location contains the input (such as
    /// `frankfurt`) come next. A built-in provider prefix on the input gives a preference to that provider's
    /// regions, enough to outweigh a one-character typo. Names that resemble the input too little are left out, so
    /// the result may be shorter than `n`.
    pub fn closest_names(&self, name: &str, n: usize) -> Vec<String> {
        if n == 0 {
            return Vec::new();
        }
        let (provider, query) = split_builtin_prefix(name);
        let query = query.to_ascii_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .regions
            .iter()
            .filter_map(|region| {
                let candidate = region.name.to_ascii_lowercase();
                let similarity = 0.5 * strsim::normalized_damerau_levenshtein(&query, &candidate)
                    + 0.5 * strsim::jaro_winkler(&query, &candidate);
                let in_name = !query.is_empty() && candidate.contains(&query);
                let in_location =
                    query.len() >= 3 && region.location.to_ascii_lowercase().contains(&query);
                if !in_name && !in_location && similarity < MIN_SUGGESTION_SIMILARITY {
                    return None;
                }
                let mut score = similarity;
                if in_name {
                    score += 1.0;
                } else if in_location {
                    score += 0.75;
                }
                if provider.is_some_and(|p| region.provider.eq_ignore_ascii_case(p)) {
                    score += PROVIDER_PREFIX_BONUS;
                }
                Some((score, region.name.as_str()))
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        scored
            .into_iter()
            .take(n)
            .map(|(_, name)| name.to_string())
            .collect()
    }

    /// Returns the measured median round-trip time between two built-in regions in milliseconds, as the mean of
    /// both directions. Provider prefixes are accepted, and the result is `None` for the same region twice or for a
    /// pair without a measurement.
    pub fn measured_rtt_ms(&self, a: &str, b: &str) -> Option<f64> {
        let (a, b) = (self.key(a), self.key(b));
        if a == b {
            return None;
        }
        self.measured.get(&ordered_pair(a, b)).copied()
    }

    /// Iterates over the built-in regions in file order.
    pub fn regions(&self) -> impl Iterator<Item = &Region> {
        self.regions.iter()
    }

    /// Returns the lowercase canonical name that the measured map is keyed by. A name that does not resolve is
    /// kept whole, so a mismatched prefix such as `gcp:us-east-1` never matches the AWS region.
    fn key(&self, name: &str) -> String {
        match self.lookup(name) {
            Some(region) => region.name.to_ascii_lowercase(),
            None => name.trim().to_ascii_lowercase(),
        }
    }

    /// Builds a table from the text of the two CSV files, skipping rows that are malformed.
    fn parse(regions_csv: &str, rtt_csv: &str) -> RegionTable {
        let regions = parse_regions(regions_csv);
        let mut by_name = HashMap::with_capacity(regions.len());
        for (index, region) in regions.iter().enumerate() {
            by_name
                .entry(region.name.to_ascii_lowercase())
                .or_insert(index);
        }
        RegionTable {
            regions,
            by_name,
            measured: parse_measured(rtt_csv),
        }
    }
}

/// The score bonus for regions of the provider named by a prefix on the input. It outweighs a one-character
/// difference in the name, but not a name that contains the input.
const PROVIDER_PREFIX_BONUS: f64 = 0.2;

/// The least blended similarity, from 0 to 1, that a name needs to be suggested without a substring match.
const MIN_SUGGESTION_SIMILARITY: f64 = 0.6;

/// Returns the great-circle distance in kilometres between two `(lat, lon)` points given in degrees.
pub fn great_circle_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lat1, lon1) = (a.0.to_radians(), a.1.to_radians());
    let (lat2, lon2) = (b.0.to_radians(), b.1.to_radians());
    let half_dlat = ((lat2 - lat1) / 2.0).sin();
    let half_dlon = ((lon2 - lon1) / 2.0).sin();
    let h = half_dlat * half_dlat + lat1.cos() * lat2.cos() * half_dlon * half_dlon;
    // Rounding can push `h` a hair outside [0, 1], where the square root or arcsine would give NaN.
    2.0 * EARTH_RADIUS_KM * h.clamp(0.0, 1.0).sqrt().asin()
}

/// Returns the speed-of-light round-trip floor in milliseconds over `km` of fiber, which is 1 ms per 102.1 km.
/// Negative or NaN distances count as zero.
pub fn floor_rtt_ms(km: f64) -> f64 {
    2.0 * km.max(0.0) / FIBER_KM_PER_S * 1000.0
}

/// Returns the median ratio of measured round-trip time to the floor for a given distance in kilometres.
pub fn stretch(km: f64) -> f64 {
    if km < 500.0 {
        3.09
    } else if km < 1000.0 {
        2.48
    } else if km < 3000.0 {
        2.05
    } else if km < 8000.0 {
        1.77
    } else {
        1.65
    }
}

/// Returns the estimated round-trip time in milliseconds over a distance in kilometres, as floor times stretch.
pub fn estimated_rtt_ms(km: f64) -> f64 {
    floor_rtt_ms(km) * stretch(km)
}

/// The topology the cost model prices against: the built-in table plus user additions.
#[derive(Debug, Clone)]
pub struct Topology {
    /// User-defined regions with coordinates (for example an on-premises data centre); these shadow built-in
    /// regions of the same name.
    pub custom_regions: Vec<Region>,
    /// User RTTs in milliseconds that apply in both directions, keyed by the ordered `(min, max)` pair of lowercase
    /// canonical region names.
    pub overrides: HashMap<(String, String), f64>,
    /// The RTT in milliseconds between two endpoints inside one region.
    pub intra_region_ms: f64,
}

impl Topology {
    /// Creates a topology with no custom regions or overrides.
    pub fn new(intra_region_ms: f64) -> Topology {
        Topology {
            custom_regions: Vec::new(),
            overrides: HashMap::new(),
            intra_region_ms,
        }
    }

    /// Records a user RTT between two regions that applies in both directions. The names are resolved the same way
    /// as in [`Topology::rtt`], and a later override for the same pair replaces an earlier one. The value is stored
    /// as given, so the caller is expected to have rejected negative or non-finite figures.
    pub fn add_override(&mut self, a: &str, b: &str, ms: f64) {
        let key = ordered_pair(self.key(a), self.key(b));
        self.overrides.insert(key, ms);
    }

    /// Returns the region with this name, looking at custom regions first and then the built-in table.
    pub fn region(&self, name: &str) -> Option<Region> {
        self.custom_region(name)
            .or_else(|| RegionTable::builtin().lookup(name))
            .cloned()
    }

    /// Returns the RTT between two regions. In order of precedence, the same region at both ends gives
    /// `SameRegion` with `intra_region_ms`; an override gives `Configured`; a built-in measurement gives `Measured`;
    /// otherwise a great-circle estimate from the coordinates gives `Estimated`. The result is `None` if either
    /// region is unknown and no override exists. Region names are compared case-insensitively after resolving a
    /// provider prefix, so "aws:us-east-1" and "us-east-1" are the same region.
    ///
    /// A same-name pair counts as `SameRegion` only when the region is known. Measured figures are not used when
    /// either side resolves to a custom region, because the custom region replaces the built-in one. An estimate
    /// is never below `intra_region_ms`, since distinct regions can share the same metro coordinates (for example
    /// AWS `eu-central-1` and Azure `germanywestcentral`). `floor_ms` is `None` for `SameRegion`.
    pub fn rtt(&self, a: &str, b: &str) -> Option<Rtt> {
        let region_a = self.region(a);
        let region_b = self.region(b);
        let (key_a, key_b) = (self.key(a), self.key(b));
        if key_a == key_b && region_a.is_some() {
            return Some(Rtt {
                ms: self.intra_region_ms,
                source: RttSource::SameRegion,
                floor_ms: None,
            });
        }
        let floor_ms = match (&region_a, &region_b) {
            (Some(ra), Some(rb)) => Some(floor_rtt_ms(great_circle_km(
                (ra.lat, ra.lon),
                (rb.lat, rb.lon),
            ))),
            _ => None,
        };
        if let Some(ms) = self.override_ms(&key_a, &key_b) {
            return Some(Rtt {
                ms,
                source: RttSource::Configured,
                floor_ms,
            });
        }
        if key_a == key_b {
            return None;
        }
        if self.custom_region(a).is_none() && self.custom_region(b).is_none() {
            if let Some(ms) = RegionTable::builtin().measured_rtt_ms(a, b) {
                return Some(Rtt {
                    ms,
                    source: RttSource::Measured,
                    floor_ms,
                });
            }
        }
        let (ra, rb) = (region_a?, region_b?);
        let km = great_circle_km((ra.lat, ra.lon), (rb.lat, rb.lon));
        Some(Rtt {
            ms: estimated_rtt_ms(km).max(self.intra_region_ms),
            source: RttSource::Estimated,
            floor_ms,
        })
    }

    /// Finds the custom region with this name. A prefix is accepted when it names the custom region's own provider,
    /// or a built-in provider whose region of that name the custom region shadows.
    fn custom_region(&self, name: &str) -> Option<&Region> {
        let name = name.trim();
        if let Some(region) = self
            .custom_regions
            .iter()
            .find(|r| r.name.trim().eq_ignore_ascii_case(name))
        {
            return Some(region);
        }
        let (provider, rest) = name.split_once(':')?;
        let (provider, rest) = (provider.trim(), rest.trim());
        let shadows_builtin = RegionTable::builtin().lookup(name).is_some();
        self.custom_regions.iter().find(|r| {
            r.name.trim().eq_ignore_ascii_case(rest)
                && (r.provider.trim().eq_ignore_ascii_case(provider) || shadows_builtin)
        })
    }

    /// Returns the lowercase canonical name used for comparisons and override keys. A name that does not resolve
    /// to any region is kept whole.
    fn key(&self, name: &str) -> String {
        match self.custom_region(name) {
            Some(region) => region.name.trim().to_ascii_lowercase(),
            None => RegionTable::builtin().key(name),
        }
    }

    /// Returns the override for a pair of canonical keys. Keys that were inserted into `overrides` directly, or
    /// before a custom region they name was added, are resolved again so that they still match.
    fn override_ms(&self, key_a: &str, key_b: &str) -> Option<f64> {
        let wanted = ordered_pair(key_a.to_string(), key_b.to_string());
        if let Some(&ms) = self.overrides.get(&wanted) {
            return Some(ms);
        }
        self.overrides
            .iter()
            .filter(|((x, y), _)| ordered_pair(self.key(x), self.key(y)) == wanted)
            .min_by(|(k1, _), (k2, _)| k1.cmp(k2))
            .map(|(_, &ms)| ms)
    }
}

/// Splits a built-in provider prefix such as `aws:` off a name, returning the provider and the trimmed rest.
fn split_builtin_prefix(name: &str) -> (Option<&'static str>, &str) {
    let name = name.trim();
    if let Some((prefix, rest)) = name.split_once(':') {
        let prefix = prefix.trim();
        if let Some(provider) = BUILTIN_PROVIDERS
            .iter()
            .find(|p| p.eq_ignore_ascii_case(prefix))
        {
            return (Some(provider), rest.trim());
        }
    }
    (None, name)
}

/// Orders two names so that an unordered pair has a single key.
fn ordered_pair(a: String, b: String) -> (String, String) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Splits one CSV line into fields. Double-quoted fields may contain commas, and a doubled quote inside them
/// stands for one quote character. An unterminated quote runs to the end of the line.
fn split_csv_line(line: &str) -> Vec<String> {
    // Most rows quote nothing: split them at once (the built-in table is read on every run).
    if !line.contains('"') {
        return line.split(',').map(str::to_string).collect();
    }
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut in_quotes = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    current.push('"');
                    chars.next();
                } else {
                    in_quotes = false;
                }
            } else {
                current.push(c);
            }
        } else {
            match c {
                '"' => in_quotes = true,
                ',' => fields.push(std::mem::take(&mut current)),
                _ => current.push(c),
            }
        }
    }
    fields.push(current);
    fields
}

/// Splits CSV text into a header and data rows, skipping blank lines.
fn csv_rows(text: &str) -> Option<(Vec<String>, impl Iterator<Item = Vec<String>> + '_)> {
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let header: Vec<String> = split_csv_line(lines.next()?)
        .into_iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    Some((header, lines.map(split_csv_line)))
}

/// Returns the position of a named column in a header.
fn column(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name)
}

/// Returns a trimmed field of a row, or `None` when the row is too short.
fn field(row: &[String], index: usize) -> Option<&str> {
    row.get(index).map(|f| f.trim())
}

/// Parses the regions file, skipping rows that lack a name or have coordinates that are missing or out of range.
/// When a name repeats, the first row wins.
fn parse_regions(text: &str) -> Vec<Region> {
    let Some((header, rows)) = csv_rows(text) else {
        return Vec::new();
    };
    let columns = (
        column(&header, "provider"),
        column(&header, "region"),
        column(&header, "location"),
        column(&header, "lat"),
        column(&header, "lon"),
    );
    let (Some(provider), Some(region), location, Some(lat), Some(lon)) = columns else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    rows.filter_map(|row| {
        let name = field(&row, region)?;
        let lat: f64 = field(&row, lat)?.parse().ok()?;
        let lon: f64 = field(&row, lon)?.parse().ok()?;
        let valid =
            !name.is_empty() && (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon);
        if !valid || !seen.insert(name.to_ascii_lowercase()) {
            return None;
        }
        Some(Region {
            provider: field(&row, provider)?.to_ascii_lowercase(),
            name: name.to_string(),
            location: location
                .and_then(|i| field(&row, i))
                .unwrap_or_default()
                .to_string(),
            lat,
            lon,
        })
    })
    .collect()
}

/// Parses the measured RTT file into the mean of both directions per unordered pair, skipping rows with a
/// missing name, a negative or non-finite value, or the same region at both ends.
fn parse_measured(text: &str) -> HashMap<(String, String), f64> {
    let Some((header, rows)) = csv_rows(text) else {
        return HashMap::new();
    };
    let (Some(from), Some(to), Some(value)) = (
        column(&header, "from"),
        column(&header, "to"),
        column(&header, "rtt_ms_p50"),
    ) else {
        return HashMap::new();
    };
    let mut sums: HashMap<(String, String), (f64, u32)> = HashMap::new();
    for row in rows {
        let (Some(a), Some(b), Some(ms)) = (field(&row, from), field(&row, to), field(&row, value))
        else {
            continue;
        };
        let Ok(ms) = ms.parse::<f64>() else {
            continue;
        };
        let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
        if a.is_empty() || b.is_empty() || a == b || !ms.is_finite() || ms < 0.0 {
            continue;
        }
        let entry = sums.entry(ordered_pair(a, b)).or_insert((0.0, 0));
        entry.0 += ms;
        entry.1 += 1;
    }
    sums.into_iter()
        .map(|(pair, (sum, count))| (pair, sum / f64::from(count)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that two floating-point values differ by at most `tolerance`.
    fn assert_close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "expected {expected} ± {tolerance}, got {actual}"
        );
    }

    #[test]
    fn csv_splitter_handles_quotes_and_empty_fields() {
        assert_eq!(
            split_csv_line(r#"aws,af-south-1,"Cape Town, South Africa",-33.9,18.4"#),
            vec![
                "aws",
                "af-south-1",
                "Cape Town, South Africa",
                "-33.9",
                "18.4"
            ]
        );
        assert_eq!(split_csv_line(r#""a""b",c"#), vec![r#"a"b"#, "c"]);
        assert_eq!(split_csv_line("a,,b,"), vec!["a", "", "b", ""]);
        assert_eq!(
            split_csv_line(r#""unterminated, quote"#),
            vec!["unterminated, quote"]
        );
        assert_eq!(split_csv_line(""), vec![""]);
    }

    #[test]
    fn builtin_table_has_every_row() {
        let table = RegionTable::builtin();
        assert_eq!(table.regions().count(), 131);
        let count = |p: &str| table.regions().filter(|r| r.provider == p).count();
        assert_eq!((count("aws"), count("gcp"), count("azure")), (34, 41, 56));
        // The file has 5,414 rows, one per direction, so every pair is measured both ways.
        assert_eq!(table.measured.len(), 2707);
        let cape_town = table.lookup("af-south-1").map(|r| r.location.as_str());
        assert_eq!(cape_town, Some("Cape Town, South Africa"));
    }

    #[test]
    fn measured_value_is_the_mean_of_both_directions() {
        let table = RegionTable::builtin();
        // The file lists 92.6 ms from us-east-1 and 93.1 ms from eu-central-1.
        let ms = table.measured_rtt_ms("us-east-1", "eu-central-1");
        assert_close(ms.unwrap_or(f64::NAN), 92.85, 1e-9);
        assert_eq!(ms, table.measured_rtt_ms("eu-central-1", "us-east-1"));
        assert_eq!(
            ms,
            table.measured_rtt_ms("AWS:eu-central-1", "aws:US-EAST-1")
        );
        // The file lists 14.7 ms and 16.1 ms for this pair.
        let ms = table.measured_rtt_ms("us-east-2", "us-east-1");
        assert_close(ms.unwrap_or(f64::NAN), 15.4, 1e-9);
    }

    #[test]
    fn measured_values_match_the_data_readme_examples() {
        let table = RegionTable::builtin();
        let examples = [
            ("us-east-1", "eu-central-1", 93.0),
            ("us-east-1", "eu-west-1", 70.0),
            ("us-east-1", "us-west-2", 64.0),
            ("us-east-1", "us-east-2", 15.0),
            ("eu-west-1", "eu-central-1", 27.0),
            ("us-east-1", "ap-northeast-1", 149.0),
            ("eu-central-1", "ap-southeast-1", 161.0),
        ];
        for (a, b, expected) in examples {
            let ms = table.measured_rtt_ms(a, b).unwrap_or(f64::NAN);
            assert_close(ms, expected, 1.0);
        }
    }

    #[test]
    fn measured_lookup_rejects_unmeasured_and_mismatched_pairs() {
        let table = RegionTable::builtin();
        assert_eq!(table.measured_rtt_ms("us-east-1", "us-east-1"), None);
        assert_eq!(table.measured_rtt_ms("us-east-1", "europe-west3"), None);
        assert_eq!(table.measured_rtt_ms("us-east-1", "ap-east-2"), None);
        assert_eq!(table.measured_rtt_ms("gcp:us-east-1", "eu-central-1"), None);
        assert_eq!(table.measured_rtt_ms("nowhere", "eu-central-1"), None);
    }

    #[test]
    fn lookup_accepts_provider_prefixes() {
        let table = RegionTable::builtin();
        let provider = |name: &str| table.lookup(name).map(|r| r.provider.clone());
        assert_eq!(provider("us-east-1").as_deref(), Some("aws"));
        assert_eq!(provider("AWS:us-east-1").as_deref(), Some("aws"));
        assert_eq!(provider("Gcp:us-east1").as_deref(), Some("gcp"));
        assert_eq!(provider("azure:EastUS").as_deref(), Some("azure"));
        assert_eq!(provider(" aws : us-east-1 ").as_deref(), Some("aws"));
        assert_eq!(provider("gcp:us-east-1"), None);
        assert_eq!(provider("aws:eastus"), None);
        assert_eq!(provider("us-east-7"), None);
        assert_eq!(provider(""), None);
        assert_eq!(provider(":"), None);
        assert_eq!(provider("aws:"), None);
    }

    #[test]
    fn haversine_matches_known_distances() {
        let new_york = (40.7128, -74.0060);
        let london = (51.5074, -0.1278);
        assert_close(great_circle_km(new_york, london), 5570.0, 15.0);
        assert_close(
            great_circle_km(london, new_york),
            great_circle_km(new_york, london),
            1e-9,
        );
        assert_close(great_circle_km(london, london), 0.0, 1e-9);
        let half_circumference = std::f64::consts::PI * EARTH_RADIUS_KM;
        assert_close(
            great_circle_km((0.0, 0.0), (0.0, 180.0)),
            half_circumference,
            1e-6,
        );
        assert_close(
            great_circle_km((90.0, 0.0), (-90.0, 0.0)),
            half_circumference,
            1e-6,
        );
    }

    #[test]
    fn floor_is_one_millisecond_per_102_km() {
        assert_close(floor_rtt_ms(1021.0), 10.0, 0.01);
        assert_close(floor_rtt_ms(102.095), 1.0, 1e-9);
        assert_eq!(floor_rtt_ms(0.0), 0.0);
        assert_eq!(floor_rtt_ms(-5.0), 0.0);
    }

    #[test]
    fn stretch_follows_the_distance_buckets() {
        let cases = [
            (0.0, 3.09),
            (499.9, 3.09),
            (500.0, 2.48),
            (999.9, 2.48),
            (1000.0, 2.05),
            (2999.9, 2.05),
            (3000.0, 1.77),
            (7999.9, 1.77),
            (8000.0, 1.65),
            (20000.0, 1.65),
        ];
        for (km, expected) in cases {
            assert_eq!(stretch(km), expected, "stretch({km})");
        }
        assert_close(estimated_rtt_ms(1021.0), floor_rtt_ms(1021.0) * 2.05, 1e-12);
        assert_close(estimated_rtt_ms(9000.0), floor_rtt_ms(9000.0) * 1.65, 1e-12);
    }

    #[test]
    fn odd_numeric_inputs_do_not_panic() {
        assert!(great_circle_km((f64::NAN, 0.0), (0.0, 0.0)).is_nan());
        assert_eq!(floor_rtt_ms(f64::NAN), 0.0);
        assert_eq!(stretch(f64::NAN), 1.65);
        assert_eq!(estimated_rtt_ms(f64::NAN), 0.0);
        assert!(great_circle_km((1e300, 1e300), (-1e300, 0.0)).is_finite());
    }

    #[test]
    fn same_region_uses_the_intra_region_value() {
        let topology = Topology::new(0.7);
        let expected = Some(Rtt {
            ms: 0.7,
            source: RttSource::SameRegion,
            floor_ms: None,
        });
        assert_eq!(topology.rtt("us-east-1", "us-east-1"), expected);
        assert_eq!(topology.rtt("us-east-1", "AWS:US-EAST-1"), expected);
    }

    #[test]
    fn measured_pairs_are_reported_as_measured() {
        let topology = Topology::new(0.5);
        let rtt = topology.rtt("us-east-1", "eu-central-1");
        let Some(rtt) = rtt else {
            panic!("us-east-1 to eu-central-1 should be known");
        };
        assert_eq!(rtt.source, RttSource::Measured);
        assert_close(rtt.ms, 92.85, 1e-9);
        let floor = rtt.floor_ms.unwrap_or(f64::NAN);
        assert!(floor > 50.0 && floor < rtt.ms, "floor {floor}");
        assert_eq!(topology.rtt("eu-central-1", "aws:us-east-1"), Some(rtt));
    }

    #[test]
    fn override_beats_measured_in_both_directions() {
        let mut topology = Topology::new(0.5);
        topology.add_override("aws:EU-Central-1", "us-east-1", 42.0);
        let key = ("eu-central-1".to_string(), "us-east-1".to_string());
        assert_eq!(topology.overrides.get(&key), Some(&42.0));
        assert_eq!(topology.overrides.len(), 1);
        for (a, b) in [
            ("us-east-1", "eu-central-1"),
            ("eu-central-1", "aws:us-east-1"),
        ] {
            let rtt = topology.rtt(a, b);
            assert_eq!(
                rtt.map(|r| (r.ms, r.source)),
                Some((42.0, RttSource::Configured))
            );
            assert!(rtt.and_then(|r| r.floor_ms).is_some());
        }
        topology.add_override("us-east-1", "eu-central-1", 40.0);
        assert_eq!(topology.overrides.len(), 1);
        assert_eq!(
            topology.rtt("us-east-1", "eu-central-1").map(|r| r.ms),
            Some(40.0)
        );
    }

    #[test]
    fn overrides_inserted_directly_still_match() {
        let mut topology = Topology::new(0.5);
        topology.overrides.insert(
            ("US-EAST-1".to_string(), "aws:eu-central-1".to_string()),
            33.0,
        );
        let rtt = topology.rtt("eu-central-1", "us-east-1");
        assert_eq!(
            rtt.map(|r| (r.ms, r.source)),
            Some((33.0, RttSource::Configured))
        );
    }

    #[test]
    fn cross_provider_pairs_are_estimated_above_the_floor() {
        let topology = Topology::new(0.5);
        let Some(rtt) = topology.rtt("aws:us-east-1", "gcp:europe-west3") else {
            panic!("both regions are built in");
        };
        assert_eq!(rtt.source, RttSource::Estimated);
        let floor = rtt.floor_ms.unwrap_or(f64::NAN);
        assert!(rtt.ms >= floor, "{} < {floor}", rtt.ms);
        // Northern Virginia to Frankfurt is between 3,000 and 8,000 km, so the stretch is 1.77.
        assert_close(rtt.ms, floor * 1.77, 1e-9);
        assert_eq!(topology.rtt("europe-west3", "us-east-1"), Some(rtt));
    }

    #[test]
    fn regions_without_measurements_are_estimated() {
        let topology = Topology::new(0.5);
        let rtt = topology.rtt("ap-east-2", "ap-northeast-1");
        assert_eq!(rtt.map(|r| r.source), Some(RttSource::Estimated));
    }

    #[test]
    fn colocated_regions_are_never_estimated_below_intra_region() {
        // AWS eu-central-1 and Azure germanywestcentral share the same Frankfurt coordinates.
        let topology = Topology::new(0.8);
        let rtt = topology.rtt("eu-central-1", "germanywestcentral");
        assert_eq!(
            rtt,
            Some(Rtt {
                ms: 0.8,
                source: RttSource::Estimated,
                floor_ms: Some(0.0),
            })
        );
    }

    #[test]
    fn unknown_regions_give_none_unless_overridden() {
        let mut topology = Topology::new(0.5);
        assert_eq!(topology.rtt("us-east-1", "mars-north-1"), None);
        assert_eq!(topology.rtt("mars-north-1", "us-east-1"), None);
        assert_eq!(topology.rtt("mars-north-1", "mars-north-1"), None);
        assert_eq!(topology.rtt("gcp:us-east-1", "us-east-1"), None);
        assert_eq!(topology.rtt("", ""), None);
        assert_eq!(topology.region("mars-north-1"), None);
        topology.add_override("mars-north-1", "aws:us-east-1", 900.0);
        let rtt = topology.rtt("us-east-1", "MARS-NORTH-1");
        assert_eq!(
            rtt,
            Some(Rtt {
                ms: 900.0,
                source: RttSource::Configured,
                floor_ms: None,
            })
        );
    }

    #[test]
    fn custom_regions_shadow_builtins() {
        let mut topology = Topology::new(0.5);
        topology.custom_regions.push(Region {
            provider: "onprem".to_string(),
            name: "us-east-1".to_string(),
            location: "Null Island".to_string(),
            lat: 0.0,
            lon: 0.0,
        });
        topology.custom_regions.push(Region {
            provider: "onprem".to_string(),
            name: "dc-frankfurt".to_string(),
            location: "Frankfurt, Germany".to_string(),
            lat: 50.1109,
            lon: 8.6821,
        });
        let location = |name: &str| topology.region(name).map(|r| r.location);
        assert_eq!(location("us-east-1").as_deref(), Some("Null Island"));
        assert_eq!(location("aws:us-east-1").as_deref(), Some("Null Island"));
        assert_eq!(
            location("onprem:DC-Frankfurt").as_deref(),
            Some("Frankfurt, Germany")
        );
        assert_eq!(location("gcp:dc-frankfurt"), None);
        assert_eq!(location("us-east-2").as_deref(), Some("Columbus, Ohio, US"));

        // The shadowed region has new coordinates, so the built-in measurement no longer applies.
        let Some(rtt) = topology.rtt("us-east-1", "eu-central-1") else {
            panic!("both regions are known");
        };
        assert_eq!(rtt.source, RttSource::Estimated);
        let km = great_circle_km((0.0, 0.0), (50.1109, 8.6821));
        assert_close(rtt.floor_ms.unwrap_or(f64::NAN), floor_rtt_ms(km), 1e-9);

        let rtt = topology.rtt("onprem:dc-frankfurt", "eu-west-1");
        assert_eq!(rtt.map(|r| r.source), Some(RttSource::Estimated));
        let rtt = topology.rtt("dc-frankfurt", "ONPREM:dc-frankfurt");
        assert_eq!(rtt.map(|r| r.source), Some(RttSource::SameRegion));
    }

    #[test]
    fn override_added_before_its_custom_region_still_matches() {
        let mut topology = Topology::new(0.5);
        topology.add_override("onprem:dc1", "us-east-1", 3.0);
        topology.custom_regions.push(Region {
            provider: "onprem".to_string(),
            name: "dc1".to_string(),
            location: "Ashburn, Virginia".to_string(),
            lat: 39.04,
            lon: -77.49,
        });
        let rtt = topology.rtt("dc1", "us-east-1");
        assert_eq!(
            rtt.map(|r| (r.ms, r.source)),
            Some((3.0, RttSource::Configured))
        );
    }

    #[test]
    fn closest_names_suggest_near_misses() {
        let table = RegionTable::builtin();
        let names = table.closest_names("us-east-7", 3);
        assert_eq!(
            names.first().map(String::as_str),
            Some("us-east-1"),
            "{names:?}"
        );
        assert!(names.len() <= 3);
        let names = table.closest_names("eu-centrl-1", 3);
        assert_eq!(
            names.first().map(String::as_str),
            Some("eu-central-1"),
            "{names:?}"
        );
        let names = table.closest_names("gcp:us-east-7", 3);
        assert_eq!(
            names.first().map(String::as_str),
            Some("us-east1"),
            "{names:?}"
        );
        assert!(table.closest_names("us-east-7", 0).is_empty());
    }

    #[test]
    fn closest_names_prefer_substring_matches() {
        let table = RegionTable::builtin();
        let names = table.closest_names("central", 5);
        assert_eq!(names.len(), 5);
        assert!(names.iter().all(|n| n.contains("central")), "{names:?}");
        let names = table.closest_names("frankfurt", 3);
        assert!(names.iter().any(|n| n == "eu-central-1"), "{names:?}");
        let names = table.closest_names("EU-CENTRAL", 2);
        assert!(
            names.iter().all(|n| n.starts_with("eu-central-")),
            "{names:?}"
        );
        // Odd input must not panic, and nonsense gets few or no suggestions.
        assert!(table.closest_names("", 5).len() <= 5);
        assert!(table.closest_names(":::", 5).len() <= 5);
        assert!(table.closest_names("qqqqqqqqqqqqqqqqqqqq", 5).is_empty());
    }

    #[test]
    fn every_measured_region_has_coordinates_and_the_right_provider() {
        let table = RegionTable::builtin();
        let Some((header, rows)) = csv_rows(RTT_MEASURED_CSV) else {
            panic!("the RTT file has a header");
        };
        let (provider, from, to) = (
            column(&header, "provider").unwrap_or(usize::MAX),
            column(&header, "from").unwrap_or(usize::MAX),
            column(&header, "to").unwrap_or(usize::MAX),
        );
        let mut problems = Vec::new();
        let mut row_count = 0;
        for row in rows {
            row_count += 1;
            let expected = field(&row, provider).unwrap_or("");
            for index in [from, to] {
                let name = field(&row, index).unwrap_or("");
                match table.lookup(name) {
                    Some(region) if region.provider == expected => {}
                    _ => problems.push(format!("{expected}:{name}")),
                }
            }
        }
        assert_eq!(row_count, 5414);
        problems.sort();
        problems.dedup();
        assert!(
            problems.is_empty(),
            "missing or mismatched regions: {problems:?}"
        );
    }

    #[test]
    fn most_regions_have_a_measured_partner() {
        let table = RegionTable::builtin();
        let measured = |name: &str| {
            table
                .measured
                .keys()
                .any(|(a, b)| a.as_str() == name || b.as_str() == name)
        };
        let count = table.regions().filter(|r| measured(&r.name)).count();
        assert!(count >= 125, "only {count} regions have measurements");
        // The data notes name these two AWS regions as having no measurements.
        assert!(!measured("ap-east-2"));
        assert!(!measured("ap-southeast-6"));
    }

    #[test]
    fn measurements_never_beat_the_floor_and_match_the_published_stretch() {
        let table = RegionTable::builtin();
        let mut stretches = Vec::new();
        for ((a, b), &ms) in &table.measured {
            let (Some(ra), Some(rb)) = (table.lookup(a), table.lookup(b)) else {
                panic!("{a} or {b} has no coordinates");
            };
            let km = great_circle_km((ra.lat, ra.lon), (rb.lat, rb.lon));
            let floor = floor_rtt_ms(km);
            assert!(
                ms >= floor,
                "{a}-{b}: {ms} ms is below the {floor} ms floor"
            );
            if km > 0.0 {
                stretches.push(ms / floor);
            }
        }
        // The data notes give a median stretch of 1.75 over 2,706 pairs; one pair shares coordinates.
        assert_eq!(stretches.len(), 2706);
        stretches.sort_by(f64::total_cmp);
        assert_close(stretches[stretches.len() / 2], 1.75, 0.01);
    }

    #[test]
    fn parser_skips_malformed_rows() {
        let regions = "provider,region,location,lat,lon,coords_source\n\
            aws,good-1,\"Somewhere, Earth\",10,20,x\n\
            aws,bad-lat,Nowhere,abc,20,x\n\
            aws,short-row\n\
            aws,out-of-range,Nowhere,95,20,x\n\
            \n\
            aws,good-1,Duplicate,0,0,x\n\
            gcp,good-2,Elsewhere,-10,-20\n";
        let rtt = "provider,from,to,rtt_ms_p50,source,measured_on\n\
            aws,good-1,good-2,10,\"a, b\",2024\n\
            aws,good-2,good-1,12,src,2024\n\
            aws,good-1,good-3,7,src,2024\n\
            aws,good-1,good-4,oops,src,2024\n\
            aws,good-1,good-4,-1,src,2024\n\
            aws,good-1,good-1,5,src,2024\n\
            aws,good-1\n";
        let table = RegionTable::parse(regions, rtt);
        let names: Vec<&str> = table.regions().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["good-1", "good-2"]);
        assert_eq!(
            table.lookup("good-1").map(|r| r.location.as_str()),
            Some("Somewhere, Earth")
        );
        assert_eq!(table.measured_rtt_ms("good-2", "good-1"), Some(11.0));
        assert_eq!(table.measured_rtt_ms("good-1", "good-3"), Some(7.0));
        assert_eq!(table.measured_rtt_ms("good-1", "good-4"), None);
        assert_eq!(table.measured.len(), 2);

        let empty = RegionTable::parse("", "not,a,known,header\n1,2,3,4\n");
        assert_eq!(empty.regions().count(), 0);
        assert!(empty.measured.is_empty());
        assert!(empty.closest_names("us-east-1", 3).is_empty());
    }
}
