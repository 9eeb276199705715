package io.mds.client.amr;

import io.mds.client.MdsException;
import io.mds.client.engine.Text;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.util.Arrays;

/** A ustar header as {@code amr.build} writes it (Python's {@code TarInfo.tobuf(USTAR_FORMAT)}); anything else is refused. */
final class TarHeader {
    static final int BLOCK = 512;

    final String name;
    final long size;

    private TarHeader(String name, long size) {
        this.name = name;
        this.size = size;
    }

    /** The next header, or null at the end-of-archive block. */
    static TarHeader next(TarStream stream, String where) throws MdsException {
        byte[] raw = stream.exact(BLOCK, where);
        boolean zeros = true;
        for (byte b : raw) zeros &= b == 0;
        if (zeros) return null;
        String name;
        long size;
        try {
            String prefix = field(raw, 345, 155);
            name = prefix.isEmpty() ? field(raw, 0, 100) : prefix + "/" + field(raw, 0, 100);
            String octal = field(raw, 124, 12).trim();
            size = octal.isEmpty() ? 0 : Long.parseLong(octal, 8);
        } catch (CharacterCodingException | NumberFormatException error) {
            throw new MdsException(MdsException.Kind.FORMAT, "the package has a damaged archive header " + where, error);
        }
        byte[] canonical = canonical(name, size);
        if (canonical == null || !Arrays.equals(canonical, raw)) {
            throw new MdsException(MdsException.Kind.FORMAT, "the package has a non-canonical archive header for " + name);
        }
        return new TarHeader(name, size);
    }

    private static String field(byte[] raw, int start, int length) throws CharacterCodingException {
        int end = start;
        while (end < start + length && raw[end] != 0) end++;
        CharsetDecoder decoder = Charset.forName("UTF-8").newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        return decoder.decode(ByteBuffer.wrap(raw, start, end - start)).toString();
    }

    /** The header for (name, size), or null when ustar cannot hold it. */
    static byte[] canonical(String name, long size) {
        String prefix = "";
        String shortName = name;
        if (Text.utf8(name).length > 100) {
            String[] parts = name.split("/", -1);
            boolean found = false;
            for (int i = 1; i < parts.length && !found; i++) {
                prefix = Text.join("/", Arrays.asList(parts).subList(0, i));
                shortName = Text.join("/", Arrays.asList(parts).subList(i, parts.length));
                found = Text.utf8(prefix).length <= 155 && Text.utf8(shortName).length <= 100;
            }
            if (!found) return null;
        }
        if (size < 0 || size >= 8589934592L) return null; // 8^11
        byte[] header = new byte[BLOCK];
        put(header, 0, shortName);
        put(header, 100, "0000644\0");
        put(header, 108, "0000000\0");
        put(header, 116, "0000000\0");
        put(header, 124, octal(size, 11) + "\0");
        put(header, 136, "00000000000\0");
        put(header, 148, "        ");
        put(header, 156, "0");
        put(header, 257, "ustar\u000000");
        put(header, 345, prefix);
        int sum = 0;
        for (byte b : header) sum += b & 255;
        put(header, 148, octal(sum, 6) + "\0 ");
        return header;
    }

    private static void put(byte[] header, int at, String text) {
        byte[] bytes = Text.utf8(text);
        System.arraycopy(bytes, 0, header, at, Math.min(bytes.length, BLOCK - at));
    }

    private static String octal(long value, int digits) {
        StringBuilder text = new StringBuilder(Long.toOctalString(value));
        while (text.length() < digits) text.insert(0, '0');
        return text.toString();
    }
}
