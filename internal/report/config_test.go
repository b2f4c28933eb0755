package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestConfigNamedInEveryFormat: a configuration file can disable checks,
// so every format names the one used.
func TestConfigNamedInEveryFormat(t *testing.T) {
	const cfg = "repo/.kubeguard.yaml"
	want := map[string]string{
		"text":  "configuration: " + cfg + "\n",
		"json":  `"config": "` + cfg + `"`,
		"sarif": `"toolConfigurationNotifications": [`,
		"junit": `<property name="kubeguard.config" value="` + cfg + `">`,
	}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			out, err := New(format, Options{})
			if err != nil {
				t.Fatal(err)
			}
			var with, without bytes.Buffer
			if err := out.Write(&with, &Report{Version: "1.0", Config: cfg}); err != nil {
				t.Fatal(err)
			}
			if err := out.Write(&without, &Report{Version: "1.0"}); err != nil {
				t.Fatal(err)
			}
			w, ok := want[format]
			if !ok {
				t.Fatalf("no expectation for format %s", format)
			}
			if !strings.Contains(with.String(), w) || !strings.Contains(with.String(), cfg) {
				t.Errorf("report lacks %q:\n%s", w, with.String())
			}
			if strings.Contains(without.String(), cfg) {
				t.Errorf("report without a configuration names one:\n%s", without.String())
			}
		})
	}
}
