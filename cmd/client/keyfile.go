package main

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/grenache-go/grenache/pkg/bep44"
)

// Key files use grenache-cli's format, so a key made by grenache-keygen
// signs here and one made by `client keygen` signs with grenache-put: FILE
// holds the 64-byte expanded ed25519 secret key (orlp/ed25519's form) as
// 128 hex characters, FILE.pub the 32-byte public key as 64 hex characters,
// neither with a newline. The secret is written with mode 0600.

// defaultKeyFile is grenache-keygen's location, $HOME/.grenache-cli/key.
func defaultKeyFile(getenv func(string) string) (string, error) {
	home := getenv("HOME")
	if home == "" {
		var err error
		if home, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("no --key (env CLIENT_KEY_FILE) and no home directory for the default: %w", err)
		}
	}
	return filepath.Join(home, ".grenache-cli", "key"), nil
}

// keyFilePath is --key, or the default.
func keyFilePath(s *dhtSettings, getenv func(string) string) (string, error) {
	if s.KeyFile != "" {
		return s.KeyFile, nil
	}
	return defaultKeyFile(getenv)
}

// readHexFile reads a small hex file of exactly n bytes once decoded.
func readHexFile(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// A key file is 128 characters; reading a little more than that is
	// enough to tell a wrong file without loading a large one.
	raw, err := io.ReadAll(io.LimitReader(f, 4*int64(n)+64))
	if err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(string(bytes.TrimSpace(raw)))
	if err != nil || len(b) != n {
		return nil, fmt.Errorf("%s: want %d hex characters (grenache-cli's key format)", path, 2*n)
	}
	return b, nil
}

// readKeyFile loads FILE and checks FILE.pub, when present, against it.
func readKeyFile(path string) (*bep44.Key, error) {
	secret, err := readHexFile(path, 64)
	if err != nil {
		return nil, err
	}
	key, err := bep44.KeyFromExpanded(secret)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	pub, err := readHexFile(path+".pub", 32)
	switch {
	case errors.Is(err, os.ErrNotExist):
		// The public key follows from the secret one; the .pub file is a
		// convenience for grenache-cli, which cannot derive it.
	case err != nil:
		return nil, err
	default:
		if own := key.PublicKey(); !bytes.Equal(pub, own[:]) {
			return nil, fmt.Errorf("%s.pub holds %x, but the secret key in %s belongs to %x", path, pub, path, own)
		}
	}
	return key, nil
}

// writeKeyFile writes key to FILE (0600) and FILE.pub (0644), creating the
// directory (0700); without force an existing FILE is left alone.
func writeKeyFile(path string, key *bep44.Key, force bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	secret := key.Expanded()
	if err := writeFile0(path, flags, 0o600, hex.EncodeToString(secret[:])); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; pass --force to replace it (the old key is lost)", path)
		}
		return err
	}
	pub := key.PublicKey()
	return writeFile0(path+".pub", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644, hex.EncodeToString(pub[:]))
}

func writeFile0(path string, flags int, mode os.FileMode, text string) error {
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		return err
	}
	// An existing file keeps its mode on O_TRUNC; a secret must not.
	if err := f.Chmod(mode); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
