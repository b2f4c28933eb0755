package report

import "testing"

// ValidateSARIF lets the external tests check real scans against the
// SARIF 2.1.0 schema.
func ValidateSARIF(t *testing.T, data []byte) error { return validateSARIF(t, data) }
