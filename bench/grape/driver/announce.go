package main

func (c *config) runAnnounce() (string, error) { return "", nil }
