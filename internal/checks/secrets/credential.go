package secrets

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// This file decides whether a value written in a manifest is a credential.
// Two kinds of evidence count:
//
//   - the value's shape, for credentials that announce themselves: PEM
//     private key blocks, AWS access key IDs, GitHub, GitLab and Slack
//     tokens, Slack webhook URLs, JWTs, and URLs with a password in them;
//   - the key's name, for everything else: a key named like a password,
//     secret, token or API key whose value is a literal, not a placeholder
//     or a reference to where the credential really lives.
//
// A placeholder leaks nothing, so it is not reported: values with
// $(VAR), ${VAR} or {{ }} in them, a lone $VAR, <...>, runs of x, * or
// dots, and the words people write to be replaced (changeme, replace-me,
// placeholder, example, dummy, redacted, todo, tbd, fixme, none, null,
// your-...). Whether such a value gets replaced before it reaches a
// cluster is another question than a leak. Neither are references
// reported: absolute file paths, URLs without a password, ARNs and
// secret-manager paths (vault:, projects/.../secrets/...), nor values
// that are evidently settings: booleans, numbers, durations (30s, 1h), and
// anything shorter than four characters.

// patterns are the shapes of self-announcing credentials, each with what
// a finding calls it.
var patterns = []struct {
	// hints are substrings one of which every match holds: looking for
	// them first spares the regular expression nearly every value.
	hints []string
	re    *regexp.Regexp
	what  string
	// skip rejects a match that is a documented example.
	skip func(match string) bool
}{
	{hints: []string{"-----BEGIN "}, re: regexp.MustCompile(`-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----`), what: "a private key (PEM block)"},
	{hints: []string{"AKIA", "ASIA"}, re: regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`), what: "an AWS access key ID",
		// AWS's documentation uses AKIAIOSFODNN7EXAMPLE and the like.
		skip: func(m string) bool { return strings.HasSuffix(m, "EXAMPLE") }},
	{hints: []string{"gh", "github_pat_"}, re: regexp.MustCompile(`\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})`), what: "a GitHub token"},
	{hints: []string{"glpat-"}, re: regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`), what: "a GitLab token"},
	{hints: []string{"xox"}, re: regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`), what: "a Slack token"},
	{hints: []string{"hooks.slack.com"}, re: regexp.MustCompile(`https://hooks\.slack\.com/services/[A-Za-z0-9/]{20,}`), what: "a Slack webhook URL"},
	{hints: []string{"eyJ"}, re: regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`), what: "a JWT"},
}

// urlPassword finds user:password@ in a URL; the password is group 1.
var urlPassword = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]+:([^\s/@]+)@`)

// valueKinds returns what credential shapes a value holds.
func valueKinds(v string) []string {
	var out []string
	for _, p := range patterns {
		if !slices.ContainsFunc(p.hints, func(h string) bool { return strings.Contains(v, h) }) {
			continue
		}
		for _, m := range p.re.FindAllString(v, -1) {
			if p.skip == nil || !p.skip(m) {
				out = append(out, p.what)
				break
			}
		}
	}
	if !strings.Contains(v, "://") {
		return out
	}
	for _, m := range urlPassword.FindAllStringSubmatch(v, -1) {
		if !placeholder(m[1]) {
			out = append(out, "a password in a URL")
			break
		}
	}
	return out
}

// Words of key names. strongWords name credentials wherever they appear;
// weakWords (secret, token) also name references to Secrets and token
// settings, so annotations, whose values are mostly such references
// (nginx.ingress.kubernetes.io/auth-secret), are judged by strong words
// only.
var (
	strongWords = []string{"password", "passwd", "pwd", "passphrase", "apikey", "privatekey"}
	weakWords   = []string{"secret", "token", "credential", "credentials"}
	strongPairs = [][2]string{{"api", "key"}, {"private", "key"}, {"access", "key"}, {"signing", "key"}, {"encryption", "key"}}
	// settingWords, as the last word of a key, say that the value is
	// about the credential, not the credential: DB_PASSWORD_FILE,
	// TOKEN_TTL, secretName, api-key-header.
	settingWords = []string{
		"file", "path", "dir", "directory", "name", "names", "ref", "url", "uri", "endpoint", "host", "hostname", "port",
		"id", "ids", "type", "kind", "length", "len", "size", "ttl", "timeout", "expiry", "expiration", "expires", "lifetime",
		"duration", "interval", "period", "seconds", "minutes", "hours", "days", "enabled", "enable", "disabled", "required",
		"policy", "algorithm", "alg", "mode", "version", "format", "header", "location", "provider", "source", "store",
		"mount", "field", "prefix", "suffix", "namespace", "audience", "issuer", "scope", "scopes", "realm", "count", "min",
		"max", "rotation", "template", "class", "method", "strategy", "backend", "env", "var",
	}
)

// keyWords splits a key into lowercase words at punctuation and case
// changes: "spring.datasource.password", "DB_PASSWORD", "apiKey",
// "APIKey" and "x-api-key" all split as a reader would.
func keyWords(key string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(key)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if unicode.IsUpper(r) && len(cur) > 0 {
			prev := cur[len(cur)-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || unicode.IsUpper(prev) && nextLower {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// sensitiveKey reports whether a key names a credential. weak says
// whether secret and token count.
func sensitiveKey(key string, weak bool) bool {
	words := keyWords(key)
	if len(words) == 0 || contains(settingWords, words[len(words)-1]) {
		return false
	}
	match := func(list []string, w string) bool {
		for _, s := range list {
			// A suffix catches words run together: dbpassword,
			// clientsecret, authtoken; a prefix would catch tokenizer.
			if w == s || strings.HasSuffix(w, s) {
				return true
			}
		}
		return false
	}
	for i, w := range words {
		if match(strongWords, w) || weak && match(weakWords, w) {
			return true
		}
		if i > 0 {
			for _, p := range strongPairs {
				if words[i-1] == p[0] && w == p[1] {
					return true
				}
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

var (
	shellVar     = regexp.MustCompile(`^\$[A-Za-z_][A-Za-z0-9_]*$`)
	filler       = regexp.MustCompile(`^[xX*.#?_-]+$`)
	duration     = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h|d|w)?$`)
	placeholders = []string{
		"changeme", "changeit", "replaceme", "placeholder", "example", "dummy", "redacted", "none", "null", "nil",
		"na", "todo", "tbd", "fixme", "notset", "unset", "empty",
	}
)

// placeholder reports whether a value is one a person writes to be
// replaced, or a reference expanded elsewhere.
func placeholder(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" || strings.Contains(v, "$(") || strings.Contains(v, "${") || strings.Contains(v, "{{") ||
		shellVar.MatchString(v) || filler.MatchString(v) || strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") {
		return true
	}
	low := strings.ToLower(v)
	if strings.HasPrefix(low, "your-") || strings.HasPrefix(low, "your_") || strings.HasPrefix(low, "<your") {
		return true
	}
	// Compare letters only: change-me, CHANGE_ME and n/a are the words.
	var b strings.Builder
	for _, r := range low {
		if unicode.IsLetter(r) {
			b.WriteRune(r)
		}
	}
	return contains(placeholders, b.String())
}

// literal reports whether the value of a credential-named key is a
// literal credential rather than a placeholder, a reference or a setting.
func literal(v string) bool {
	v = strings.TrimSpace(v)
	switch {
	case len(v) < 4, placeholder(v), duration.MatchString(v):
		return false
	case strings.HasPrefix(v, "/") && !strings.ContainsAny(v, " \t"):
		return false // a file that holds the credential
	case strings.HasPrefix(v, "arn:"), strings.HasPrefix(v, "vault:"), strings.HasPrefix(v, "projects/") && strings.Contains(v, "/secrets/"):
		return false // where a secret manager keeps it
	case strings.Contains(v, "://") && !urlPassword.MatchString(v):
		return false // a URL or a secret-manager reference, with no password in it
	}
	if _, err := strconv.ParseBool(v); err == nil {
		return false
	}
	switch strings.ToLower(v) {
	case "yes", "no", "on", "off", "enabled", "disabled":
		return false
	}
	return true
}

// configLine matches the key and value of one line of a configuration
// file held in a ConfigMap: properties and env files (key=value), YAML
// (key: value), JSON ("key": "value",), TOML and INI.
var configLine = regexp.MustCompile(`^\s*(?:export\s+)?["']?([A-Za-z_][A-Za-z0-9_.\-]*)["']?\s*[:=]\s*(.*)$`)

// lineValue strips the quoting and trailing punctuation of a line's value.
func lineValue(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, " #"); i >= 0 {
		v = strings.TrimSpace(v[:i])
	}
	v = strings.TrimSuffix(v, ",")
	v = strings.TrimSuffix(v, ";")
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		v = v[1 : len(v)-1]
	}
	return v
}

// lineFinding is a credential-named key with a literal value found on a
// line of a multi-line value.
type lineFinding struct {
	key  string
	line int
}

// credentialLines returns the keys of a file's lines that hold literal
// credentials.
func credentialLines(text string) []lineFinding {
	if !strings.ContainsAny(text, "=:") {
		return nil
	}
	var out []lineFinding
	for i, l := range strings.Split(text, "\n") {
		m := configLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		v := lineValue(m[2])
		if v == "" || v == "|" || v == ">" || strings.HasPrefix(v, "{") || strings.HasPrefix(v, "[") {
			continue // a nested block, not a value
		}
		if sensitiveKey(m[1], true) && literal(v) {
			out = append(out, lineFinding{key: m[1], line: i + 1})
		}
	}
	return out
}
