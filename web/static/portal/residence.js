// A residence attestation from the portal's fields (the issue form and a bulk CSV row use the
// same names), checked locally as the service's ResidenceAttestation schema would check it, so a
// person sees every mistake of a row at once and before anything is sent. Pure, no DOM.

export const FACT_TYPE = "ResidenceAttestation";

export const CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/corroborate/v1"];

/** attesterRelation.role, as schemas/residence-attestation.json enumerates it. */
export const ROLES = ["utility-supplier", "bank", "landlord", "employer", "parcel-carrier", "neighbour", "municipality-officer", "other"];

/** The fields (and bulk CSV columns), in the order of the template. */
export const FIELDS = [
  "subject",
  "role",
  "relation_since",
  "street_fr",
  "street_nl",
  "house_number",
  "box",
  "postal_code",
  "municipality_fr",
  "municipality_nl",
  "country",
  "since",
];

export const REQUIRED = ["subject", "role", "house_number", "postal_code", "country", "since"];

const SUBJECT =
  /^(?:did:[a-z0-9]+:(?:[A-Za-z0-9._:-]|%[0-9A-Fa-f]{2})*(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})|urn:uuid:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$/;
const COUNTRY = /^[A-Z]{2}$/;

/**
 * The DID methods a subject can later prove control of: the verifier derives did:key and did:jwk
 * documents locally and fetches did:web. A credential about a DID of another method would be
 * signed, but its subject could never present it.
 */
export const SUBJECT_METHODS = ["key", "jwk", "web"];

const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/** The bytes of a base58btc text, or null when it has a character outside the alphabet. */
function base58(text) {
  let n = 0n;
  for (const c of text) {
    const digit = BASE58.indexOf(c);
    if (digit < 0) return null;
    n = n * 58n + BigInt(digit);
  }
  const bytes = [];
  while (n > 0n) {
    bytes.unshift(Number(n % 256n));
    n /= 256n;
  }
  for (const c of text) {
    if (c !== "1") break;
    bytes.unshift(0);
  }
  return bytes;
}

/** Whether a did:key names an Ed25519 key (multicodec 0xed01 and 32 bytes), the only kind used here. */
function isEd25519Key(did) {
  const multibase = did.slice("did:key:".length);
  if (!multibase.startsWith("z")) return false;
  const bytes = base58(multibase.slice(1));
  return Boolean(bytes) && bytes.length === 34 && bytes[0] === 0xed && bytes[1] === 0x01;
}

/** A problem with a subject identifier, as the key under "residence.problem.", or null. */
function subjectProblem(subject) {
  if (!SUBJECT.test(subject) || subject.length > 512) return "subject";
  if (subject.startsWith("urn:uuid:")) return null;
  const method = subject.split(":")[1];
  if (!SUBJECT_METHODS.includes(method)) return "didMethod";
  if (method === "key" && !isEd25519Key(subject)) return "didKey";
  return null;
}

function isDate(text) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

function hasControl(text) {
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(text);
}

/**
 * Checks the fields; returns {credential, problems}. `badDates` names the date fields a date
 * picker holds an impossible or unfinished date in (its value is then empty): each is reported
 * as not a date rather than as missing. `problems` is a list of {field, key, params}
 * (i18n keys under "residence.problem."); `credential` is the unsigned credential when there is
 * none. `issuer` is the hosted issuer's DID.
 */
export function buildResidence(fields, issuer, { badDates = [] } = {}) {
  const v = {};
  for (const name of FIELDS) v[name] = String(fields[name] ?? "").trim();
  v.country = v.country.toUpperCase();
  const problems = [];
  const problem = (field, key, params = {}) => problems.push({ field, key: `residence.problem.${key}`, params });

  for (const name of badDates) problem(name, "date");
  for (const name of REQUIRED) if (!v[name] && !badDates.includes(name)) problem(name, "required");
  const subjectIssue = v.subject ? subjectProblem(v.subject) : null;
  if (subjectIssue) problem("subject", subjectIssue, { methods: SUBJECT_METHODS.map((m) => `did:${m}`).join(", ") });
  if (v.role && !ROLES.includes(v.role)) problem("role", "role", { roles: ROLES.join(", ") });
  for (const name of ["since", "relation_since"]) if (v[name] && !isDate(v[name])) problem(name, "date");
  const today = new Date().toISOString().slice(0, 10);
  for (const name of ["since", "relation_since"]) if (v[name] && isDate(v[name]) && v[name] > today) problem(name, "future");
  if (!v.street_fr && !v.street_nl) problem("street_fr", "street");
  if (!v.municipality_fr && !v.municipality_nl) problem("municipality_fr", "municipality");
  for (const name of ["house_number", "box", "postal_code"]) if (v[name].length > 16) problem(name, "tooLong", { max: 16 });
  for (const name of ["street_fr", "street_nl", "municipality_fr", "municipality_nl"]) {
    if (v[name].length > 200) problem(name, "tooLong", { max: 200 });
  }
  for (const name of FIELDS) if (hasControl(v[name])) problem(name, "control");
  if (v.country && !COUNTRY.test(v.country)) problem("country", "country");
  if (problems.length) return { credential: null, problems };

  const languageMap = (fr, nl) => Object.fromEntries([["fr", fr], ["nl", nl]].filter(([, text]) => text));
  const address = {
    street: languageMap(v.street_fr, v.street_nl),
    houseNumber: v.house_number,
    ...(v.box ? { box: v.box } : {}),
    postalCode: v.postal_code,
    municipality: languageMap(v.municipality_fr, v.municipality_nl),
    country: v.country,
  };
  const relation = { role: v.role, ...(v.relation_since ? { since: v.relation_since } : {}) };
  const credential = {
    "@context": CONTEXTS,
    type: ["VerifiableCredential", FACT_TYPE],
    ...(issuer ? { issuer } : {}),
    credentialSubject: {
      id: v.subject,
      attesterRelation: relation,
      residence: { address, since: v.since },
    },
  };
  return { credential, problems };
}
