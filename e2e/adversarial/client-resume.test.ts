// Hostile answers to a resume: servers that replay the cursor's event, restart the stream, ignore
// the cursor, or point the resume at another origin. Nothing may reach the app twice.
import type { IncomingMessage, RequestListener } from 'node:http'
import { listen } from '@unbroken/test-kit'
import { describe, expect, it } from 'vitest'
import { createHostileServer, DONE, numbered, openSse } from './client-hostile'

const hostile = createHostileServer()

/** The first connection delivers events 1–3 and drops; `resume` answers every later request. */
const dropThenResume =
  (resume: (req: IncomingMessage) => string): RequestListener =>
  (req, res) => {
    openSse(res, { 'content-location': '/s/7' })
    res.end(req.method === 'POST' ? numbered(1, 3) : resume(req))
  }

const POST = { method: 'POST' } as const
const data = (events: { data: string }[]) => events.map((event) => event.data)

describe('a server that repeats itself on resume', () => {
  it("replays the cursor's own event: it is dropped", async () => {
    const { events, error } = await hostile.read(
      dropThenResume(() => numbered(3, 5) + DONE),
      POST,
    )
    expect(error).toBeUndefined()
    expect(data(events)).toEqual(['e1', 'e2', 'e3', 'e4', 'e5', '{}'])
  })

  it('restarts from its first event on every resume: resume-failed, nothing twice', async () => {
    const { events, error } = await hostile.read(
      dropThenResume(() => numbered(1, 5) + DONE),
      POST,
    )
    expect(error).toMatchObject({ code: 'resume-failed' })
    expect(data(events)).toEqual(['e1', 'e2', 'e3'])
  })

  it('restarts with a cursor block of its own start: resume-failed, nothing twice', async () => {
    const { events, error } = await hostile.read(
      dropThenResume(() => `id: 0\n\n${numbered(1, 5)}${DONE}`),
      POST,
    )
    expect(error).toMatchObject({ code: 'resume-failed' })
    expect(data(events)).toEqual(['e1', 'e2', 'e3'])
  })

  it('confirms the cursor, then continues: accepted', async () => {
    const { events, error } = await hostile.read(
      dropThenResume((req) => `id: ${req.headers['last-event-id']}\n\n${numbered(4, 4)}${DONE}`),
      POST,
    )
    expect(error).toBeUndefined()
    expect(data(events)).toEqual(['e1', 'e2', 'e3', 'e4', '{}'])
  })

  it('answers every resume with the same cut: retries run out, nothing twice', async () => {
    const { events, error } = await hostile.read(
      dropThenResume(() => numbered(3, 3)),
      POST,
    )
    expect(error).toMatchObject({ code: 'retries-exhausted' })
    expect(data(events)).toEqual(['e1', 'e2', 'e3'])
  })
})

describe('a resume URL the server should not give', () => {
  it('on another origin is not followed: the credentials never leave', async () => {
    let reached = 0
    const other = await listen((_, res) => {
      reached++
      res.end()
    })
    try {
      const { events, error } = await hostile.read(
        (_, res) => {
          openSse(res, { 'content-location': `${other.origin}/steal` })
          res.end(numbered(1, 1))
        },
        { method: 'POST', headers: { authorization: 'Bearer secret' } },
      )
      expect(error).toMatchObject({ code: 'resume-failed' })
      expect(data(events)).toEqual(['e1'])
      expect(reached).toBe(0)
    } finally {
      await other.close()
    }
  })

  it('that cannot be parsed is ignored like a missing one', async () => {
    const { error } = await hostile.read((_, res) => {
      openSse(res, { 'content-location': 'http://[::1' })
      res.end(numbered(1, 1))
    }, POST)
    expect(error).toMatchObject({ code: 'resume-failed' })
  })

  it('that redirects in a loop ends typed', async () => {
    const { error, events } = await hostile.read((req, res) => {
      if (req.method === 'POST') {
        openSse(res, { 'content-location': '/loop/a' })
        return res.end(numbered(1, 1))
      }
      res.writeHead(302, { location: req.url === '/loop/a' ? '/loop/b' : '/loop/a' }).end()
    }, POST)
    expect(error).toMatchObject({ code: 'retries-exhausted', cause: { code: 'network' } })
    expect(data(events)).toEqual(['e1'])
  })

  it('that is gone (404) names the URL it tried', async () => {
    const { error } = await hostile.read((req, res) => {
      if (req.method === 'POST') {
        openSse(res, { 'content-location': '/gone/7' })
        return res.end(numbered(1, 1))
      }
      res.writeHead(404).end()
    }, POST)
    expect(error).toMatchObject({ code: 'resume-failed', status: 404 })
    expect(error?.message).toMatch(/\/gone\/7/)
  })
})
