// Exports arrive with this package's issue.
export {}
