package qlog

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// SaltFile is where Open keeps the salt it generates for the log at path
// when Config.Salt is empty: beside the database, not in it, so that a
// copy of the database (a backup, an export for analysis) does not carry
// the key to its hashes. Whoever has both can still tie rows to user ids
// (chat user ids can be enumerated); a salt in the service's environment
// keeps the two further apart.
func SaltFile(path string) string { return path + ".salt" }

// fingerprint identifies a salt without revealing it: the log stores it,
// so that opening it with another salt (a lost salt file, a changed
// setting) is refused instead of silently starting hashes that match no
// earlier row.
func fingerprint(salt []byte) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte("faqbot question log salt fingerprint"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// loadSalt finds the salt the log's hashes are made with, in tx (the
// transaction init runs in): Config.Salt, else the salt file, else (a log
// of version 1) the salt stored in the database, moved out to the salt
// file, else a new random one written to the salt file. The log keeps the
// salt's fingerprint and refuses another.
func (l *Log) loadSalt(ctx context.Context, tx *sql.Tx) ([]byte, error) {
	meta := func(key string) (string, error) {
		var v string
		err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = ?", key).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return v, err
	}
	stored, err := meta("salt") // version 1 kept it here
	if err != nil {
		return nil, fmt.Errorf("read salt: %w", err)
	}
	fp, err := meta("salt_fingerprint")
	if err != nil {
		return nil, fmt.Errorf("read salt fingerprint: %w", err)
	}
	if stored != "" && fp == "" {
		fp = fingerprint([]byte(stored))
	}

	file := SaltFile(l.cfg.Path)
	var salt []byte
	source := "the configured salt"
	switch {
	case l.cfg.Salt != "":
		salt = []byte(l.cfg.Salt)
	default:
		source = "salt file " + file
		salt, err = readSaltFile(file)
		switch {
		case err == nil:
			if fi, err := os.Stat(file); err == nil && fi.Mode().Perm()&0o077 != 0 {
				l.log.Warn("question log: the salt file is readable by others than its owner (chmod 600 it)", "file", file, "mode", fi.Mode().Perm().String())
			}
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		case stored != "":
			salt = []byte(stored)
			if err := writeSaltFile(file, salt); err != nil {
				return nil, err
			}
			l.log.Info("question log: salt moved out of the database into its own file", "file", file)
		case fp != "":
			return nil, fmt.Errorf("the salt file %s is missing, and the log's user hashes were made with its salt (fingerprint %s): "+
				"restore the file, or set the salt, or move the log aside to start a new one", file, fp)
		default:
			salt, err = newSaltFile(file)
			if err != nil {
				return nil, err
			}
		}
	}

	if got := fingerprint(salt); fp == "" {
		fp = got
	} else if got != fp {
		return nil, fmt.Errorf("salt mismatch: the log's user hashes were made with a salt of fingerprint %s, and %s has fingerprint %s: "+
			"use the salt the log was made with, or move the log aside to start a new one", fp, source, got)
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO meta (key, value) VALUES ('salt_fingerprint', ?)", fp); err != nil {
		return nil, fmt.Errorf("store salt fingerprint: %w", err)
	}
	if stored != "" {
		// secure_delete overwrites it in the file; the checkpoint after
		// init clears it from the WAL.
		if _, err := tx.ExecContext(ctx, "DELETE FROM meta WHERE key = 'salt'"); err != nil {
			return nil, fmt.Errorf("remove salt from the database: %w", err)
		}
		l.movedSalt = true
	}
	return salt, nil
}

// maxSaltFile bounds what is read of a salt file.
const maxSaltFile = 4096

func readSaltFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("salt file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSaltFile+1))
	if err != nil {
		return nil, fmt.Errorf("salt file %s: %w", path, err)
	}
	salt := strings.TrimSpace(string(data))
	if len(data) > maxSaltFile || len(salt) < MinSaltLen {
		return nil, fmt.Errorf("salt file %s: want one line of %d to %d characters", path, MinSaltLen, maxSaltFile)
	}
	return []byte(salt), nil
}

// newSaltFile makes a random salt and writes it to path, unless another
// process just did: then it reads theirs.
func newSaltFile(path string) ([]byte, error) {
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return nil, fmt.Errorf("generate salt: %w", err)
	}
	salt := []byte(hex.EncodeToString(buf))
	err := writeSaltFile(path, salt)
	if errors.Is(err, fs.ErrExist) {
		return readSaltFile(path)
	}
	return salt, err
}

// writeSaltFile creates path, readable by the owner alone, with salt.
func writeSaltFile(path string, salt []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("salt file: %w", err)
	}
	_, err = f.Write(append(salt, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("salt file %s: %w", path, err)
	}
	return nil
}
