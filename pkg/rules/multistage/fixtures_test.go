package multistage_test

import (
	"testing"

	"github.com/hardenfix/hardenfix/pkg/rewrite/rewritetest"
	"github.com/hardenfix/hardenfix/pkg/rules"
)

// TestFixtures runs the golden fixtures in testdata/ (each folder's name
// says the rule it runs, its options may name others).
func TestFixtures(t *testing.T) { rewritetest.Run(t, "testdata", rules.All()) }
