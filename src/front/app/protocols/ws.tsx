/** A WebSocket message: frame facts and the payload. */
import { BodyView, KvTable, Section, Val, type MessageProps } from '../components/detail-kit.tsx';
export function WsMessage({ m }: MessageProps) {
  const keys = [
    'opcode',
    'frames',
    'masked',
    'compressed',
    'payloadLength',
    'closeCode',
    'closeReason',
    'upgradePath',
  ];
  return (
    <>
      <KvTable rows={keys.filter((k) => m[k] !== undefined).map((k) => [k, <Val v={m[k]} />])} />
      <Section title="Payload">
        <BodyView body={m.payload} />
      </Section>
    </>
  );
}
