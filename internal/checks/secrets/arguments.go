package secrets

import (
	"encoding/json"
	"path"
	"slices"
	"strings"
)

// mysqlClients are the programs that take a password glued to -p
// (mysql -uroot -psecret).
var mysqlClients = []string{"mysql", "mysqldump", "mysqladmin", "mariadb", "mariadb-dump", "mysqlimport", "mysqlshow"}

// argCredentials says what credentials a container's command line holds,
// for each argument (command first, then args) by index: a credential
// shape in it (a token, a URL with a password), a flag named like a
// password with a literal value (--password=x, --db-password x), a
// variable assignment of one (PGPASSWORD=x, in a shell command), or a
// MySQL client's -p<password>. Shell commands (sh -c "...") are split on
// white space, which is how the shell reads the simple commands written
// in manifests.
func argCredentials(argv []string) map[int][]string {
	out := map[int][]string{}
	mysql := false
	type word struct {
		arg int
		s   string
	}
	var words []word
	for i, a := range argv {
		for _, w := range strings.Fields(a) {
			w = strings.Trim(w, `"';`)
			words = append(words, word{i, w})
			if slices.Contains(mysqlClients, path.Base(w)) {
				mysql = true
			}
		}
	}
	add := func(i int, what string) {
		if !slices.Contains(out[i], what) {
			out[i] = append(out[i], what)
		}
	}
	for i, a := range argv {
		for _, what := range valueKinds(a) {
			add(i, what)
		}
	}
	for j, w := range words {
		name, value, eq := strings.Cut(strings.TrimLeft(w.s, "-"), "=")
		switch {
		case mysql && strings.HasPrefix(w.s, "-p") && !strings.HasPrefix(w.s, "--") && len(w.s) > 2 && literal(strings.Trim(w.s[2:], `"'`)):
			add(w.arg, "a MySQL password (-p)")
		case eq && name != "" && sensitiveKey(name, true) && literal(strings.Trim(value, `"'`)):
			if strings.HasPrefix(w.s, "-") {
				add(w.arg, "a literal value of flag "+flagName("--"+name))
			} else {
				add(w.arg, "a literal value of variable "+flagName(name))
			}
		case !eq && strings.HasPrefix(w.s, "--") && sensitiveKey(name, true) && j+1 < len(words) &&
			!strings.HasPrefix(words[j+1].s, "-") && literal(words[j+1].s):
			add(words[j+1].arg, "a literal value of flag "+flagName("--"+name))
		}
	}
	return out
}

// imageCredentials reports whether an image reference carries a user and
// password before its registry (user:pass@registry.example.com/app:1.0),
// which the runtime would never read and everyone who can read the pod
// can.
func imageCredentials(image string) bool {
	slash := strings.IndexByte(image, '/')
	if slash < 0 {
		return false
	}
	host := image[:slash]
	at := strings.LastIndexByte(host, '@')
	return at > 0 && strings.Contains(host[:at], ":") && !placeholder(host[strings.IndexByte(host, ':')+1:at])
}

// lastAppliedData returns the keys of a Secret's data that its
// kubectl.kubernetes.io/last-applied-configuration annotation repeats:
// kubectl apply writes the whole manifest there, values included, in a
// place every reader of the Secret's metadata sees.
func lastAppliedData(annotation string) []string {
	var v struct {
		Data       map[string]any `json:"data"`
		StringData map[string]any `json:"stringData"`
	}
	if json.Unmarshal([]byte(annotation), &v) != nil {
		return nil
	}
	var keys []string
	for k, x := range v.Data {
		if s, ok := x.(string); ok && s != "" {
			keys = append(keys, k)
		}
	}
	for k, x := range v.StringData {
		if s, ok := x.(string); ok && s != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// flagName quotes a flag or variable name for a finding, unless it is not
// plainly a name (--password:value is one word): a finding never shows
// what may be part of a value.
func flagName(name string) string {
	if len(name) > 48 || strings.ContainsFunc(name, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return "named like a credential"
	}
	return quote(name)
}
