package registry

import "testing"

// TestWindowsAccounts checks the catalog's Windows accounts: Nano Server runs
// as ContainerUser (non-root), Server Core and the .NET Framework images as
// ContainerAdministrator (root for every purpose), and the .NET app user of
// the Linux tags does not leak into the Windows ones.
func TestWindowsAccounts(t *testing.T) {
	c := Embedded()
	for _, tc := range []struct {
		image, user string
		nonRoot     bool
	}{
		{"mcr.microsoft.com/windows/nanoserver:ltsc2022", "ContainerUser", true},
		{"mcr.microsoft.com/windows/nanoserver:10.0.14393.2068", "", false},
		{"mcr.microsoft.com/windows/servercore:ltsc2022", "ContainerAdministrator", false},
		{"mcr.microsoft.com/dotnet/framework/runtime:4.8.1", "ContainerAdministrator", false},
		{"mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022", "ContainerUser", true},
		{"mcr.microsoft.com/dotnet/runtime:9.0-windowsservercore-ltsc2022", "ContainerAdministrator", false},
		{"golang:1.23-nanoserver-ltsc2022", "ContainerUser", true},
		{"python:3.13-windowsservercore-ltsc2022", "ContainerAdministrator", false},
	} {
		f, ok := c.Facts(tc.image)
		if !ok {
			t.Errorf("%s: not in the catalog", tc.image)
			continue
		}
		if f.Family != "windows" {
			t.Errorf("%s: family %q, want windows", tc.image, f.Family)
		}
		if f.User != tc.user || f.NonRoot() != tc.nonRoot {
			t.Errorf("%s: user %q (non-root %v), want %q (%v)", tc.image, f.User, f.NonRoot(), tc.user, tc.nonRoot)
		}
		if f.AppUser != "" || f.AppUID > 0 {
			t.Errorf("%s: app user %s (%d) on a Windows image", tc.image, f.AppUser, f.AppUID)
		}
	}
	for _, image := range []string{"mcr.microsoft.com/dotnet/framework/aspnet:4.8.1", "mcr.microsoft.com/windows/servercore/iis:windowsservercore-ltsc2022"} {
		if f, _ := c.Facts(image); !f.NeedsRoot {
			t.Errorf("%s runs IIS (ServiceMonitor.exe): want needs-root", image)
		}
	}
}
