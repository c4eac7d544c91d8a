/** A DNS message: header fields, then questions, answers, authorities, additionals. */
import { KvTable, RecordTable, Val, type MessageProps } from '../components/detail-kit.tsx';
export function DnsMessage({ cat, m }: MessageProps) {
  return (
    <>
      <KvTable
        rows={(['id', 'opcode', 'rcode', 'flags', 'length'] as const)
          .filter((k) => m[k] !== undefined)
          .map((k) => [k, <Val v={m[k]} />])}
      />
      <RecordTable
        cat={cat}
        rows={m.questions}
        name="Questions"
        fields={{ name: 'dns_questions', type: 'dns_question_types' }}
      />
      <RecordTable cat={cat} rows={m.answers} name="Answers" fields={{ data: 'dns_answers' }} />
      <RecordTable cat={cat} rows={m.authorities} name="Authorities" />
      <RecordTable cat={cat} rows={m.additionals} name="Additionals" />
    </>
  );
}
