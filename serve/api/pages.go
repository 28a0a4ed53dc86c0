package api

import (
	"caserisk/serve/core"
	"caserisk/serve/store"
)

// This file holds what the web pages (Config.Pages) use from the server:
// the application core, which applies the purpose rules and the audit log
// for the pages as it does for the API, and the store for signing in.

// Core returns the service's application core.
func (s *Server) Core() *core.Core { return s.core }

// Store returns the service's store; the pages use it only to verify
// sign-in tokens (auth.TokenLookup).
func (s *Server) Store() store.Store { return s.cfg.Store }
