package geoip

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"
)

// writeTestDB builds a tiny country database with mmdbwriter.
func writeTestDB(t testing.TB) string {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: "Test-Country", RecordSize: 24})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range map[string]mmdbtype.Map{
		"81.2.69.0/24":     {"country": mmdbtype.Map{"iso_code": mmdbtype.String("GB")}},
		"89.160.20.112/28": {"country": mmdbtype.Map{"iso_code": mmdbtype.String("SE")}},
		"2a02:cf40::/29":   {"country": mmdbtype.Map{"iso_code": mmdbtype.String("NO")}},
		"67.43.156.0/24":   {"registered_country": mmdbtype.Map{"iso_code": mmdbtype.String("BT")}},
	} {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(n, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	path := filepath.Join(t.TempDir(), "country.mmdb")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCountry(t *testing.T) {
	db, err := Open(writeTestDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct{ ip, want string }{
		{"81.2.69.142", "GB"},
		{"81.2.69.142:51234", "GB"},
		{" 89.160.20.115 ", "SE"},
		{"89.160.20.128", ""}, // just outside the /28
		{"::ffff:81.2.69.1", "GB"},
		{"2a02:cf40:1::1", "NO"},
		{"[2a02:cf40::5]:443", "NO"},
		{"67.43.156.7", "BT"}, // registered country only
		{"8.8.8.8", ""},
		{"", ""},
		{"not an ip", ""},
		{"81.2.69.0/24", ""},
	} {
		if got := db.Country(tc.ip); got != tc.want {
			t.Errorf("Country(%q) = %q, want %q", tc.ip, got, tc.want)
		}
	}
	var nilDB *DB
	if nilDB.Country("81.2.69.142") != "" {
		t.Error("nil DB must answer empty")
	}
}

func TestOpenMissing(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "none.mmdb")); err == nil {
		t.Fatal("opened a missing file")
	}
	bad := filepath.Join(t.TempDir(), "bad.mmdb")
	if err := os.WriteFile(bad, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad); err == nil {
		t.Fatal("opened a file that is not MMDB")
	}
}

func FuzzCountry(f *testing.F) {
	db, err := Open(writeTestDB(f))
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	f.Add("81.2.69.142")
	f.Fuzz(func(t *testing.T, ip string) {
		c := db.Country(ip)
		if c != "" && len(c) != 2 {
			t.Fatalf("Country(%q) = %q", ip, c)
		}
	})
}
