package io.mds.client.events;

import java.math.BigDecimal;
import java.util.Iterator;
import org.json.JSONArray;
import org.json.JSONObject;

/**
 * JSON written as Python's {@code json.dumps(value, separators=(",", ":"))} writes it: compact, ASCII only
 * ({@code \u00e9} for non-ASCII, lower-case hex), floats as {@code repr}. The server measures a batch in this
 * form, and the reference client writes config values so: the same value is the same bucket on every SDK.
 */
final class WireJson {
    private WireJson() {}

    static String write(Object value) {
        StringBuilder out = new StringBuilder();
        write(value, out);
        return out.toString();
    }

    private static void write(Object value, StringBuilder out) {
        if (value == null || JSONObject.NULL.equals(value)) {
            out.append("null");
        } else if (value instanceof Boolean) {
            out.append(((Boolean) value).booleanValue() ? "true" : "false");
        } else if (value instanceof String) {
            quote((String) value, out);
        } else if (value instanceof Double || value instanceof Float) {
            out.append(pythonFloat(((Number) value).doubleValue()));
        } else if (value instanceof Number) {
            out.append(value.toString()); // Integer, Long, BigInteger
        } else if (value instanceof JSONObject) {
            JSONObject object = (JSONObject) value;
            out.append('{');
            Iterator<String> names = object.keys();
            boolean first = true;
            while (names.hasNext()) {
                String name = names.next();
                if (!first) out.append(',');
                first = false;
                quote(name, out);
                out.append(':');
                write(object.opt(name), out);
            }
            out.append('}');
        } else if (value instanceof JSONArray) {
            JSONArray array = (JSONArray) value;
            out.append('[');
            for (int i = 0; i < array.length(); i++) {
                if (i > 0) out.append(',');
                write(array.opt(i), out);
            }
            out.append(']');
        } else {
            quote(value.toString(), out);
        }
    }

    static void quote(String text, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"':
                    out.append("\\\"");
                    break;
                case '\\':
                    out.append("\\\\");
                    break;
                case '\n':
                    out.append("\\n");
                    break;
                case '\r':
                    out.append("\\r");
                    break;
                case '\t':
                    out.append("\\t");
                    break;
                case '\b':
                    out.append("\\b");
                    break;
                case '\f':
                    out.append("\\f");
                    break;
                default:
                    if (c < 0x20 || c > 0x7e) {
                        String hex = Integer.toHexString(c);
                        out.append("\\u");
                        for (int pad = hex.length(); pad < 4; pad++) out.append('0');
                        out.append(hex);
                    } else {
                        out.append(c);
                    }
            }
        }
        out.append('"');
    }

    /** Python's {@code repr(float)}: fixed notation for exponents -4 to 15, else {@code 1.5e+16}. */
    static String pythonFloat(double value) {
        if (Double.isNaN(value)) return "NaN";
        if (Double.isInfinite(value)) return value > 0 ? "Infinity" : "-Infinity";
        String sign = value < 0 || (value == 0 && 1 / value < 0) ? "-" : "";
        if (value == 0) return sign + "0.0";
        BigDecimal decimal = new BigDecimal(Double.toString(Math.abs(value))).stripTrailingZeros();
        String digits = decimal.unscaledValue().toString();
        int exponent = digits.length() - 1 - decimal.scale();
        if (exponent >= -4 && exponent < 16) {
            String plain = decimal.toPlainString();
            return sign + (plain.indexOf('.') < 0 ? plain + ".0" : plain);
        }
        StringBuilder out = new StringBuilder(sign).append(digits.charAt(0));
        if (digits.length() > 1) out.append('.').append(digits, 1, digits.length());
        int magnitude = Math.abs(exponent);
        return out.append('e').append(exponent < 0 ? '-' : '+').append(magnitude < 10 ? "0" : "").append(magnitude).toString();
    }
}
