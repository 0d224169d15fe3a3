import { configure } from '@testing-library/react'

// The CI box is 2 shared cores: a wait is bounded generously, and no test asserts a duration.
configure({ asyncUtilTimeout: 10_000 })
