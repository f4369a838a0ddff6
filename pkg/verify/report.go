package verify

import (
	"github.com/hardenfix/hardenfix/pkg/report"
)

// Verification is the file's verification as the reports show it; nil for
// a file that could not be read or rewritten.
func (fr *FileResult) Verification(v *Verifier) *report.Verification {
	if fr.Status == Error {
		return nil
	}
	out := &report.Verification{Status: string(fr.Status), Reason: fr.Reason, Engine: v.engine.Name, RunOK: fr.RunOK, Logs: v.logDir, Written: fr.Written}
	if fr.Status == Unchanged {
		return out
	}
	out.OriginalBuilt = fr.Original != nil && fr.Original.OK
	out.RewrittenBuilt = fr.Rewritten != nil && fr.Rewritten.OK
	out.RewrittenRan = fr.RewrittenRan
	if fr.Original != nil && fr.Original.OK {
		out.Run = fr.RunBefore.String() + " → " + fr.RunAfter.String()
	}
	img := func(i *ImageInfo) *report.VerifiedImage {
		if i == nil {
			return nil
		}
		return &report.VerifiedImage{Size: i.Size, Layers: i.Layers, User: i.User, UID: i.UID}
	}
	before, after := fr.Images()
	out.Before, out.After = img(before), img(after)
	if fr.Status == Failed {
		out.After = nil
		if fr.Rewritten != nil {
			out.After = img(fr.Rewritten.Image)
		}
	}
	for _, d := range fr.Differences {
		out.Differences = append(out.Differences, report.ImageDifference{What: d.What, Bad: d.Bad, Message: d.Message})
	}
	for _, d := range fr.Dropped {
		out.Dropped = append(out.Dropped, report.DroppedRule{Rule: d.Rule, Reason: d.Reason, Log: d.Log, LogPath: d.LogPath})
	}
	if fr.Scanner != "" {
		c := &report.VerificationScans{Tool: fr.Scanner, Error: fr.ScanError}
		if d := fr.Scan; d != nil {
			bc, ac := d.Before.Counts(), d.After.Counts()
			c.Before, c.After, c.BeforeTotal, c.AfterTotal = bc.JSON(), ac.JSON(), bc.Total(), ac.Total()
			c.Fixed, c.Remaining, c.New = len(d.Fixed), len(d.Remaining), len(d.New)
		}
		out.CVEs = c
	}
	return out
}
