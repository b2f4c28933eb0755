package secrets_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeguard/kubeguard/internal/check/checktest"
	"github.com/kubeguard/kubeguard/internal/checks/secrets"
)

// TestFindingsShowNoValue scans the fixtures full of credentials and
// Secret values and looks for each value, and for a distinctive part of
// it, in every field of every finding: a finding names keys and fields,
// never what they hold.
func TestFindingsShowNoValue(t *testing.T) {
	values := map[string][]string{
		"hardcoded-credential.yaml": {
			"kd8Fj2mQx7Lp0Zr5",
			"eyJhbGciOiJIUzI1NiJ9", "bm90LWEtc2lnbmF0dXJl",
			"Tr0ub4dor-and-3",
			"AKIAZ3N7Q2XKJ5MBT4WD", "Z3N7Q2XKJ5MBT4WD",
			"wJalrXUtnF3MI", "bPxRfiCYz9Q2mKeY",
			"ghp_Zq3xN8vB2mK7pL4sD9fG1hJ6wE5rT0yU2iO8", "Zq3xN8vB2mK7",
			"xoxb-1234567890-abcdefghijkl", "abcdefghijkl",
			"s3cr3t-pw",
			"9f8e7d6c5b4a",
			"glpat-Xy7Kq2Lm9Np4Rs8Tv3Wz", "Xy7Kq2Lm9Np4",
			"4f3c2b1a0e9d8c7b",
			"hunter2-but-longer",
			"bm90LWEta2V5", "BEGIN RSA PRIVATE KEY",
			"T0000FAKE", "notARealWebhookPath",
			"Qz7pW3vK9m", "My5qlR00tPw", "Pg9vLx2Qw8Rt", "Tk4nX8bQ2mV7zL1", "Zr8mQ3xT6wP", "TGFzdEFwcGxpZWRQdw==",
		},
		"secret-in-manifest.yaml": {
			"c2hvcA==", "bm90LWEtcmVhbC1wYXNzd29yZA==", "not-a-real-password",
			"not-a-real-token", "bm90LWEtY2VydA==", "bm90LWEta2V5",
		},
	}
	for file, vals := range values {
		t.Run(file, func(t *testing.T) {
			path := filepath.Join("testdata", file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := checktest.Scan(path, secrets.Checks, checktest.DefaultOptions)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				t.Fatal("no findings")
			}
			for _, f := range got {
				js, err := json.Marshal(f)
				if err != nil {
					t.Fatal(err)
				}
				for _, v := range vals {
					if strings.Contains(string(js), v) {
						t.Errorf("%s finding at line %d shows %q: %s", f.CheckID, f.Location.Line, v, js)
					}
				}
			}
			for _, v := range vals {
				// A value the fixture does not hold would prove nothing
				// (the decoded base64 ones are held in encoded form).
				if !strings.Contains(string(data), v) && v != "not-a-real-password" {
					t.Errorf("%q is not in %s", v, file)
				}
			}
		})
	}
}
