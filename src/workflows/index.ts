export * from './book-trip';
