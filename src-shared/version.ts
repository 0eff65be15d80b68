/** Keep equal to package.json's version (a test checks). */
export const APP_VERSION = '0.1.0';
