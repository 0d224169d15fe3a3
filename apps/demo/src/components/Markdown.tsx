import { memo } from 'react'
import ReactMarkdown from 'react-markdown'
import remarkGfm from 'remark-gfm'
import remend from 'remend'

const remarkPlugins = [remarkGfm]

/**
 * Markdown as it streams. While the answer grows, remend closes what is still open (`**bold`,
 * an unfinished link or inline code) so that half an answer renders as it will look, instead of
 * flashing raw asterisks; an open code fence already renders as a code block.
 */
export const Markdown = memo(function Markdown({
  text,
  streaming,
}: {
  text: string
  streaming: boolean
}) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={remarkPlugins}>{streaming ? remend(text) : text}</ReactMarkdown>
    </div>
  )
})
