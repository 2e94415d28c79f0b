module github.com/sessiongate/sessiongate

go 1.26

require (
	github.com/go-chi/chi/v5 v5.5.0 // indirect
	github.com/goccy/go-json v0.10.6 // indirect
	github.com/lestrrat-go/jwx/v2 v2.1.7 // indirect
	github.com/lestrrat-go/option v1.0.1 // indirect
	github.com/segmentio/asm v1.2.1 // indirect
	github.com/stretchr/testify v1.12.1 // indirect
	golang.org/x/sys v0.46.0 // indirect
)
