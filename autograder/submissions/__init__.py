"""What students hand in: collection from folders, archives and Moodle downloads, identities, class list, notebook reading."""
