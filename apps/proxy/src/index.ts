// The proxy arrives with its own issue; this entry keeps the workspace layout whole.
export {}
