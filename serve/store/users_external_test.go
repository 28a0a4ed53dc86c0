package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"

	"caserisk/serve/auth"
)

const testIssuer = "https://login.example.test/tenant/v2.0"

func TestExternalUsers(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store, raw *sql.DB) {
		ctx := context.Background()
		local, err := s.CreateUser(ctx, "alex.smith@council.example", auth.Admin)
		if err != nil {
			t.Fatal(err)
		}
		if local.External() {
			t.Errorf("a token user is external: %+v", local)
		}
		u, err := s.CreateExternalUser(ctx, NewExternalUser{Issuer: testIssuer, Subject: "sub-1",
			Name: "kim.lee@council.example", DisplayName: "Kim Lee", Role: auth.Caseworker})
		if err != nil {
			t.Fatal(err)
		}
		if u.Name != "kim.lee@council.example" || !u.External() || u.Role != auth.Caseworker || u.DisplayName != "Kim Lee" {
			t.Errorf("created %+v", u)
		}
		got, err := s.UserByExternalID(ctx, testIssuer, "sub-1")
		if err != nil || got != u {
			t.Fatalf("UserByExternalID = %+v, %v; want %+v", got, err, u)
		}
		if got, err := s.UserByID(ctx, u.ID); err != nil || got != u {
			t.Fatalf("UserByID = %+v, %v; want %+v", got, err, u)
		}
		// The same subject at another issuer is another person.
		if _, err := s.UserByExternalID(ctx, "https://other.example", "sub-1"); !errors.Is(err, ErrNotFound) {
			t.Errorf("other issuer: %v, want ErrNotFound", err)
		}
		if _, err := s.CreateExternalUser(ctx, NewExternalUser{Issuer: testIssuer, Subject: "sub-1", Name: "x", Role: auth.Admin}); !errors.Is(err, ErrConflict) {
			t.Errorf("the same subject twice: %v, want ErrConflict", err)
		}
		// A provider user named like a token user does not become them.
		twin, err := s.CreateExternalUser(ctx, NewExternalUser{Issuer: testIssuer, Subject: "sub-2",
			Name: "alex.smith@council.example", Role: auth.Caseworker})
		if err != nil {
			t.Fatal(err)
		}
		if twin.ID == local.ID || !strings.HasPrefix(twin.Name, "alex.smith@council.example~") || len(twin.Name) != len("alex.smith@council.example~")+6 {
			t.Errorf("a provider user with a token user's name: %+v", twin)
		}
		long, err := s.CreateExternalUser(ctx, NewExternalUser{Issuer: testIssuer, Subject: "sub-3", Name: strings.Repeat("é", 40), Role: auth.DataScientist})
		if err != nil || len(long.Name) > 64 || !strings.HasPrefix(long.Name, "éé") {
			t.Errorf("a long name: %+v, %v", long, err)
		}
		// Losing the role: the empty role, and no token of theirs works.
		tok, _ := auth.NewToken(nil)
		if err := s.AddToken(ctx, u.ID, tok); err != nil {
			t.Fatal(err)
		}
		if p, err := auth.Authenticate(ctx, s, tok.Secret); err != nil || p.Role != auth.Caseworker {
			t.Fatalf("token of a provider user: %+v, %v", p, err)
		}
		upd, err := s.UpdateExternalUser(ctx, u.ID, "Kim Lee-Jones", "")
		if err != nil || upd.Role != "" || upd.DisplayName != "Kim Lee-Jones" || upd.Name != u.Name {
			t.Fatalf("update to no role: %+v, %v", upd, err)
		}
		if _, err := auth.Authenticate(ctx, s, tok.Secret); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("token of a user without a role: %v, want ErrUnauthenticated", err)
		}
		if upd, err = s.UpdateExternalUser(ctx, u.ID, "Kim Lee-Jones", auth.FraudOfficer); err != nil || upd.Role != auth.FraudOfficer {
			t.Fatalf("update to fraud officer: %+v, %v", upd, err)
		}
		// A token user's role is not the provider's to change.
		if _, err := s.UpdateExternalUser(ctx, local.ID, "", ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("update of a token user: %v, want ErrNotFound", err)
		}
		if _, err := raw.Exec(`UPDATE users SET role = '' WHERE id = ` + strconv.FormatInt(local.ID, 10)); err == nil {
			t.Error("the database let a token user have no role")
		}
		if _, err := raw.Exec(`UPDATE users SET issuer = NULL WHERE id = ` + strconv.FormatInt(u.ID, 10)); err == nil {
			t.Error("the database kept a subject without an issuer")
		}
		for _, tc := range []struct {
			nu    NewExternalUser
			field string
		}{
			{NewExternalUser{Issuer: "", Subject: "s", Name: "n", Role: auth.Admin}, "issuer"},
			{NewExternalUser{Issuer: testIssuer, Subject: "", Name: "n", Role: auth.Admin}, "subject"},
			{NewExternalUser{Issuer: testIssuer, Subject: strings.Repeat("s", 256), Name: "n", Role: auth.Admin}, "subject"},
			{NewExternalUser{Issuer: testIssuer, Subject: "s\x00", Name: "n", Role: auth.Admin}, "subject"},
			{NewExternalUser{Issuer: testIssuer, Subject: "s", Name: "n", DisplayName: "a\nb", Role: auth.Admin}, "display_name"},
			{NewExternalUser{Issuer: testIssuer, Subject: "s", Name: "n", Role: "mayor"}, "role"},
		} {
			_, err := s.CreateExternalUser(ctx, tc.nu)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("CreateExternalUser(%+v): %v, want a FieldError on %s", tc.nu, err, tc.field)
			}
		}
		if _, err := s.UpdateExternalUser(ctx, u.ID, "x", "mayor"); !errors.Is(err, ErrInvalid) {
			t.Errorf("update to an unknown role: %v, want ErrInvalid", err)
		}
		if _, err := s.UserByID(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown id: %v, want ErrNotFound", err)
		}
	})
}

// TestExternalUsersMigrationKeepsUsers upgrades a database of the sixth
// schema with users, tokens and a case assigned to a user.
func TestExternalUsersMigrationKeepsUsers(t *testing.T) {
	u, raw := sqliteAtMigration(t, "v6.db", 6)
	mustExec(t, raw, `INSERT INTO users (name, role, created, disabled) VALUES ('a', 'admin', 1, 0), ('b', 'caseworker', 1, 1), ('c', 'data_steward', 1, 0)`)
	mustExec(t, raw, `DELETE FROM users WHERE id = 3`) // the counter must stay at 3
	mustExec(t, raw, `INSERT INTO tokens (user_id, prefix, hash, created) VALUES (2, 'p', 'h', 1)`)

	s, err := Open(context.Background(), u)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	defer s.Close()
	us, err := s.Users(context.Background())
	if err != nil || len(us) != 2 || us[1].Name != "b" || us[1].ID != 2 || !us[1].Disabled || us[1].External() {
		t.Fatalf("users after the upgrade: %+v, %v", us, err)
	}
	nu, err := s.CreateExternalUser(context.Background(), NewExternalUser{Issuer: testIssuer, Subject: "s", Name: "d", Role: auth.Caseworker})
	if err != nil || nu.ID != 4 {
		t.Fatalf("a provider user after the upgrade: %+v, %v (want id 4)", nu, err)
	}
	checkForeignKeysHold(t, raw)
}
