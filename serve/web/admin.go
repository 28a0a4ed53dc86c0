package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"caserisk/serve/audit"
	"caserisk/serve/auth"
	"caserisk/serve/store"
)

type roleRule struct {
	Role  auth.Role
	Perms []auth.Permission
}

type usersData struct {
	Users []store.User
	Rules []roleRule
}

// usersPage lists users and the purpose rules in force.
func (p *pages) usersPage(c *gin.Context) {
	us, err := p.core.Users(c.Request.Context(), p.actor(c))
	if err != nil {
		p.coreError(c, "list the users", "the users", err)
		return
	}
	d := usersData{Users: us}
	for _, r := range []auth.Role{auth.Caseworker, auth.FraudOfficer, auth.DataScientist, auth.DataSteward, auth.Admin} {
		d.Rules = append(d.Rules, roleRule{Role: r, Perms: p.policy.Permissions(r)})
	}
	flash := ""
	if c.Query("changed") != "" {
		flash = "The user has been changed."
	}
	p.render(c, http.StatusOK, "users", view{Title: "Users and roles", Flash: flash, Data: d})
}

// userDisable disables a user ("disable" = 1) or enables them again
// ("disable" = 0); their tokens and sessions stop or start working at once.
// An administrator cannot disable themselves.
func (p *pages) userDisable(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		p.notFound(c, "user")
		return
	}
	disable := c.PostForm("disable") == "1"
	err = p.core.SetDisabled(c.Request.Context(), p.actor(c), id, disable)
	var fe *store.FieldError
	if errors.As(err, &fe) && fe.Field == "user" {
		p.errorPage(c, http.StatusConflict, "You cannot disable yourself", "Ask another administrator to disable your account.")
		return
	}
	if err != nil {
		p.coreError(c, "change the user", "the users", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/users?changed=1")
}

// auditFilterForm is the audit page's filter as typed.
type auditFilterForm struct {
	UserID, Action, Resource string
}

type verifyResult struct {
	OK   bool
	Text string
}

type actionOption struct {
	Code, Text string
	Selected   bool
}

type auditData struct {
	Filter  auditFilterForm
	Actions []actionOption
	Entries []audit.Entry
	Older   string
	Verify  *verifyResult
}

// auditPageSize is the number of audit rows on a page.
const auditPageSize = 100

// auditPage shows the audit log, newest first, with filters.
func (p *pages) auditPage(c *gin.Context) {
	p.showAudit(c, nil)
}

func (p *pages) showAudit(c *gin.Context, vr *verifyResult) {
	if !p.policy.Allows(principalOf(c).Role, auth.AuditRead) {
		// Checked before the filter is parsed, so that a role without the
		// purpose is told so rather than shown a form; the core checks
		// again where the log is read.
		p.forbidden(c, "the audit log")
		return
	}
	form := auditFilterForm{UserID: strings.TrimSpace(c.Query("user_id")), Action: strings.TrimSpace(c.Query("action")),
		Resource: strings.TrimSpace(c.Query("resource"))}
	f := store.AuditFilter{Action: form.Action, Resource: form.Resource, Limit: auditPageSize}
	var errs []fieldErr
	if form.UserID != "" {
		id, err := strconv.ParseInt(form.UserID, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, fieldErr{Field: "user_id", Msg: "User id must be a whole number, like 3"})
		}
		f.UserID = id
	}
	if raw := c.Query("before_id"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			errs = append(errs, fieldErr{Msg: "The page of the log in the address is not valid"})
		}
		f.BeforeID = id
	}
	d := auditData{Filter: form, Verify: vr}
	for _, a := range audit.Actions() {
		d.Actions = append(d.Actions, actionOption{Code: a, Text: actionText(a), Selected: a == form.Action})
	}
	if len(errs) > 0 {
		p.render(c, http.StatusBadRequest, "audit", view{Title: "Audit log", Errors: errs, Data: d})
		return
	}
	es, err := p.core.Audit(c.Request.Context(), p.actor(c), f)
	var fe *store.FieldError
	if errors.As(err, &fe) {
		p.render(c, http.StatusBadRequest, "audit", view{Title: "Audit log", Errors: []fieldErr{{Field: fe.Field, Msg: sentence(fe.Field) + ": " + fe.Msg}}, Data: d})
		return
	}
	if err != nil {
		p.coreError(c, "read the audit log", "the audit log", err)
		return
	}
	d.Entries = es
	if len(es) == auditPageSize {
		q := url.Values{}
		for k, v := range map[string]string{"user_id": form.UserID, "action": form.Action, "resource": form.Resource} {
			if v != "" {
				q.Set(k, v)
			}
		}
		q.Set("before_id", strconv.FormatInt(es[len(es)-1].ID, 10))
		d.Older = "/admin/audit?" + q.Encode()
	}
	p.render(c, http.StatusOK, "audit", view{Title: "Audit log", Data: d})
}

// auditVerify walks the whole audit chain and shows the result with the log.
func (p *pages) auditVerify(c *gin.Context) {
	sum, err := p.core.VerifyAudit(c.Request.Context(), p.actor(c))
	var be *audit.BrokenError
	var vr verifyResult
	switch {
	case err == nil:
		vr = verifyResult{OK: true, Text: fmt.Sprintf("The chain holds: %d rows checked, the last is row %d with hash %s.", sum.Rows, sum.LastID, sum.LastHash)}
	case errors.As(err, &be), errors.Is(err, audit.ErrTruncated):
		vr = verifyResult{Text: "The chain is broken: " + err.Error() + ". Report this to the service owner."}
	default:
		p.coreError(c, "verify the audit log", "the audit log", err)
		return
	}
	p.showAudit(c, &vr)
}
